import type { SocketRecord } from "./socket-record.js";

const EMPTY: ReadonlySet<SocketRecord> = new Set();

/**
 * A room's sockets, indexed by connection id and by tag. Several sockets may share an id
 * (partysocket reuses its id across fast reconnects); lookups by id answer the newest, and a
 * closing older socket never hides a live newer one.
 */
export class SocketTable {
  // Created with the first socket: most rooms (HTTP-only ones) never have any, and a process
  // may hold many rooms at once.
  private all: Set<SocketRecord> | undefined;
  private byId: Map<string, SocketRecord | SocketRecord[]> | undefined;
  private byTag: Map<string, Set<SocketRecord>> | undefined;

  get size(): number {
    return this.all?.size ?? 0;
  }

  add(record: SocketRecord): void {
    (this.all ??= new Set()).add(record);
    this.byId ??= new Map();
    const existing = this.byId.get(record.id);
    if (existing === undefined) this.byId.set(record.id, record);
    else if (Array.isArray(existing)) existing.push(record);
    else this.byId.set(record.id, [existing, record]);
    if (record.tags.length > 0) this.byTag ??= new Map();
    for (const tag of record.tags) {
      let set = this.byTag!.get(tag);
      if (!set) this.byTag!.set(tag, (set = new Set()));
      set.add(record);
    }
  }

  delete(record: SocketRecord): boolean {
    if (!this.all?.delete(record)) return false;
    const byId = this.byId!;
    const existing = byId.get(record.id);
    if (existing === record) byId.delete(record.id);
    else if (Array.isArray(existing)) {
      const rest = existing.filter((r) => r !== record);
      byId.set(record.id, rest.length === 1 ? rest[0]! : rest);
    }
    for (const tag of record.tags) {
      const set = this.byTag?.get(tag);
      if (set && set.delete(record) && set.size === 0) this.byTag!.delete(tag);
    }
    return true;
  }

  /** The newest socket with this id. */
  get(id: string): SocketRecord | undefined {
    const existing = this.byId?.get(id);
    return Array.isArray(existing) ? existing[existing.length - 1] : existing;
  }

  /** Every socket, or those carrying `tag` (a connection's id counts as one of its tags). */
  *select(tag?: string): IterableIterator<SocketRecord> {
    if (this.all === undefined) return;
    if (tag === undefined) {
      yield* this.all;
      return;
    }
    const withId = this.byId!.get(tag);
    const seen = withId === undefined ? undefined : Array.isArray(withId) ? withId : [withId];
    if (seen) yield* seen;
    const tagged = this.byTag?.get(tag);
    if (tagged) {
      for (const record of tagged) if (!seen || !seen.includes(record)) yield record;
    }
  }

  [Symbol.iterator](): IterableIterator<SocketRecord> {
    return (this.all ?? EMPTY).values();
  }
}
