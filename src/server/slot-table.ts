/**
 * A table for short-lived entries held by a long-lived owner (a request until it is answered),
 * with the slot numbers it hands out as keys. It exists instead of a Set or Map because of how
 * V8 treats those when they churn:
 *
 * A Set or Map that sees constant adds and deletes is rehashed into a fresh hash table every few
 * dozen operations. Once the table lives in the old generation, the fresh one is allocated there
 * too, and the discarded one keeps pointing at the entries that were live when it was replaced.
 * A scavenge cannot tell that discarded table is garbage, so it keeps those young entries, and
 * everything they reach, alive and promotes them. With a request per entry that is every request:
 * on `partyhouse start` (2 MB semi-spaces) a server whose table happened to be promoted during
 * start-up promoted about 12% of what it allocated, ran a mark-compact every few seconds and
 * served 10-20% fewer HTTP requests per second than an identical one whose table had not.
 *
 * Here a removed entry's slot is overwritten at once and the array behind it only grows, so no
 * discarded store is left pointing at a live entry. Slots are reused: a slot number names an
 * entry only until that entry is deleted.
 */
export class SlotTable<T> {
  readonly #values: Array<T | undefined> = [];
  /** Slots that were used and are empty now, reused last-freed first. */
  readonly #free: number[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Stores `value` and returns its slot. */
  add(value: T): number {
    const slot = this.#free.length > 0 ? this.#free.pop()! : this.#values.length;
    this.#values[slot] = value;
    this.#size++;
    return slot;
  }

  get(slot: number): T | undefined {
    return this.#values[slot];
  }

  /** Empties `slot` and returns what it held; undefined (and nothing changes) if it was empty. */
  delete(slot: number): T | undefined {
    const value = this.#values[slot];
    if (value === undefined) return undefined;
    this.#values[slot] = undefined;
    this.#free.push(slot);
    this.#size--;
    return value;
  }

  /** The entries, in slot order. Adding or deleting while iterating is safe. */
  *values(): IterableIterator<T> {
    for (let slot = 0; slot < this.#values.length; slot++) {
      const value = this.#values[slot];
      if (value !== undefined) yield value;
    }
  }
}
