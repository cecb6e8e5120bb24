/**
 * The server's view of awareness (cursors, names): client id → clock and state, as JSON text.
 *
 * Why not y-protocols' `Awareness` class: it needs a Y.Doc and runs a 3-second interval timer,
 * and the server never reads the states, only relays them. This store decodes and encodes the
 * same wire format (count, then client id, clock and JSON state per entry) and applies the same
 * rule as `applyAwarenessUpdate`: a newer clock wins; a `null` state with the same clock removes.
 * It holds nothing across hibernation: states are relayed as they arrive, and the server asks
 * surviving clients for theirs again when a newcomer needs them.
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";

export interface AwarenessEntry {
  clientId: number;
  clock: number;
  /** The state as JSON text; "null" means the client is gone. */
  state: string;
}

/** An entry the store accepted; a renewal is the same state again with a newer clock. */
export interface AppliedEntry extends AwarenessEntry {
  renewal: boolean;
}

export function decodeAwarenessUpdate(update: Uint8Array): AwarenessEntry[] {
  const decoder = decoding.createDecoder(update);
  const count = decoding.readVarUint(decoder);
  const entries: AwarenessEntry[] = [];
  for (let i = 0; i < count; i++) {
    const clientId = decoding.readVarUint(decoder);
    const clock = decoding.readVarUint(decoder);
    const state = decoding.readVarString(decoder);
    entries.push({ clientId, clock, state });
  }
  return entries;
}

export function encodeAwarenessUpdate(entries: readonly AwarenessEntry[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientId);
    encoding.writeVarUint(encoder, entry.clock);
    encoding.writeVarString(encoder, entry.state);
  }
  return encoding.toUint8Array(encoder);
}

export class AwarenessStore {
  private readonly states = new Map<number, { clock: number; state: string }>();

  /**
   * Whether an encoded update holds nothing this store would apply: every clock at or below the
   * one held. Providers echo every update they apply, so most awareness messages an editor sends
   * are this; read without decoding a state (the common case allocates nothing).
   */
  isStale(update: Uint8Array): boolean {
    const decoder = decoding.createDecoder(update);
    const count = decoding.readVarUint(decoder);
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(decoder);
      const clock = decoding.readVarUint(decoder);
      const length = decoding.readVarUint(decoder);
      const known = this.states.get(clientId);
      if (known === undefined || known.clock < clock) return false;
      // Same clock: only a removal of a live state applies (y-protocols' rule).
      if (known.clock === clock && known.state !== "null" && isNullText(update, decoder.pos, length)) return false;
      decoder.pos += length;
    }
    // A truncated message is not stale: the full decode rejects it.
    return decoder.pos <= update.length;
  }

  /** Applies entries; returns those that changed something (to relay), in order. */
  apply(entries: readonly AwarenessEntry[]): AppliedEntry[] {
    const applied: AppliedEntry[] = [];
    for (const entry of entries) {
      const current = this.states.get(entry.clientId);
      const removal = entry.state === "null";
      const newer = current === undefined || current.clock < entry.clock;
      const sameClockRemoval = current !== undefined && current.clock === entry.clock && removal && current.state !== "null";
      if (!newer && !sameClockRemoval) continue;
      this.states.set(entry.clientId, { clock: entry.clock, state: entry.state });
      applied.push({ ...entry, renewal: current !== undefined && current.state === entry.state && !removal });
    }
    return applied;
  }

  /** Marks clients gone (their connection closed); returns the removal entries to relay. */
  remove(clients: ReadonlyArray<readonly [clientId: number, clock: number, ...unknown[]]>): AwarenessEntry[] {
    const removals: AwarenessEntry[] = [];
    for (const [clientId, lastClock] of clients) {
      const known = this.states.get(clientId);
      if (known !== undefined && known.state === "null" && known.clock > lastClock) continue; // already removed
      // One past the newest clock anyone saw, so every peer accepts the removal.
      const clock = Math.max(lastClock, known?.clock ?? 0) + 1;
      this.states.set(clientId, { clock, state: "null" });
      removals.push({ clientId, clock, state: "null" });
    }
    return removals;
  }

  has(clientId: number): boolean {
    const known = this.states.get(clientId);
    return known !== undefined && known.state !== "null";
  }

  /** Every live state, for a client that just connected; undefined when there is none. */
  snapshot(): Uint8Array | undefined {
    const live: AwarenessEntry[] = [];
    for (const [clientId, { clock, state }] of this.states) if (state !== "null") live.push({ clientId, clock, state });
    return live.length === 0 ? undefined : encodeAwarenessUpdate(live);
  }

  get size(): number {
    return this.states.size;
  }
}

/** Whether the `length` bytes at `at` spell `null` (a removal's state). */
function isNullText(bytes: Uint8Array, at: number, length: number): boolean {
  return length === 4 && bytes[at] === 0x6e && bytes[at + 1] === 0x75 && bytes[at + 2] === 0x6c && bytes[at + 3] === 0x6c;
}
