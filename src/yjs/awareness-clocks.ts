/**
 * What a connection carries across hibernation: the awareness client ids it controls, the last
 * clock seen for each and a hash of its last state, kept in its connection state under one key
 * (so it survives the instance, within the 2 KB limit). When the connection closes, even in a
 * fresh instance, the server can tell the others that those clients left, with a clock they
 * accept; and a fresh instance, which holds no awareness state, still tells a renewal (the state
 * everyone already has, with a newer clock) from a change.
 *
 * User state sits beside it: keep your connection state an object and set it with an updater
 * (`setState(prev => ({ ...prev, mine }))`), so the `__yjs` key stays.
 */
import type * as Party from "../types/party.js";

export const STATE_KEY = "__yjs";

/** [awareness client id, last clock, hash of the last state] (no hash in states written before it had one). */
export type AwarenessClocks = Array<[clientId: number, clock: number, stateHash?: number]>;

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
  const next = new Map(current.map(([clientId, clock, hash]) => [clientId, { clock, hash }]));
  for (const { clientId, clock, state } of entries) {
    if (state === "null") next.delete(clientId);
    else next.set(clientId, { clock: Math.max(clock, next.get(clientId)?.clock ?? 0), hash: stateHash(state) });
  }
  const result: AwarenessClocks = [...next].map(([clientId, { clock, hash }]) => (hash === undefined ? [clientId, clock] : [clientId, clock, hash]));
  const same =
    result.length === current.length &&
    result.every(([id, clock, hash], i) => current[i]![0] === id && current[i]![1] === clock && current[i]![2] === hash);
  return same ? undefined : result;
}

/** Whether `state` is the one the connection last sent for `clientId` (a renewal, even in a fresh instance). */
export function isSameState(clocks: AwarenessClocks, clientId: number, state: string): boolean {
  if (state === "null") return false;
  for (const [id, , hash] of clocks) if (id === clientId) return hash !== undefined && hash === stateHash(state);
  return false;
}

/**
 * FNV-1a over the state's UTF-16 code units: 32 bits, enough to tell a renewal from a change (a
 * collision only holds one change back for the batch window, renewal-batch.ts).
 */
export function stateHash(state: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < state.length; i++) {
    hash ^= state.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
