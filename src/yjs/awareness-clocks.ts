/**
 * What a connection carries across hibernation: the awareness client ids it controls and the
 * last clock seen for each, kept in its connection state under one key (so it survives the
 * instance, within the 2 KB limit). When the connection closes, even in a fresh instance, the
 * server can tell the others that those clients left, with a clock they accept.
 *
 * User state sits beside it: keep your connection state an object and set it with an updater
 * (`setState(prev => ({ ...prev, mine }))`), so the `__yjs` key stays.
 */
import type * as Party from "../types/party.js";

export const STATE_KEY = "__yjs";

/** [awareness client id, last clock] pairs. */
export type AwarenessClocks = Array<[number, number]>;

interface YConnectionState {
  [STATE_KEY]?: { a: AwarenessClocks };
}

function asObject(state: unknown): Record<string, unknown> {
  return typeof state === "object" && state !== null && !Array.isArray(state) ? (state as Record<string, unknown>) : {};
}

/** Whether the connection joined a Yjs room (its marker is set in onConnect). */
export function isYConnection(connection: Party.Connection): boolean {
  return (asObject(connection.state) as YConnectionState)[STATE_KEY] !== undefined;
}

export function readClocks(connection: Party.Connection): AwarenessClocks {
  return (asObject(connection.state) as YConnectionState)[STATE_KEY]?.a ?? [];
}

export function writeClocks(connection: Party.Connection, clocks: AwarenessClocks): void {
  connection.setState((prev: unknown) => ({ ...asObject(prev), [STATE_KEY]: { a: clocks } }));
}

/**
 * Applies awareness entries a connection sent to its clocks: a state adds or renews a client,
 * a null state removes it. Returns the new clocks, or undefined when nothing changed.
 */
export function updatedClocks(
  current: AwarenessClocks,
  entries: ReadonlyArray<{ clientId: number; clock: number; state: string }>,
): AwarenessClocks | undefined {
  const next = new Map(current);
  for (const { clientId, clock, state } of entries) {
    if (state === "null") next.delete(clientId);
    else next.set(clientId, Math.max(clock, next.get(clientId) ?? 0));
  }
  const result = [...next];
  const same = result.length === current.length && result.every(([id, clock], i) => current[i]![0] === id && current[i]![1] === clock);
  return same ? undefined : result;
}
