/**
 * A room's read cache: decoded values of keys whose durable state is known, bounded in bytes,
 * least recently used out first. It only ever holds what the engine holds (writes that are not
 * yet durable live in the room's overlay, never here), so evicting is always safe.
 */
import type { StoredValue } from "./values.js";

export const DEFAULT_CACHE_BYTES_PER_ROOM = 4 * 1024 * 1024;

/** Map bookkeeping per entry, roughly, so that many tiny entries still count. */
const ENTRY_OVERHEAD_BYTES = 64;

interface CacheEntry {
  /** null: the key is known not to exist. */
  readonly value: StoredValue | null;
  readonly size: number;
  lastUse: number;
}

export class ValueCache {
  private readonly entries = new Map<string, CacheEntry>();
  private usedBytes = 0;
  private useClock = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.usedBytes;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached value, null if known absent, undefined if not cached. */
  get(key: string): StoredValue | null | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    // Re-inserting moves the entry to the young end of the Map; doing it only for entries in
    // the older half keeps hot loops cheap while eviction stays close to LRU.
    const clock = ++this.useClock;
    if (clock - entry.lastUse > this.entries.size >> 1) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      entry.lastUse = clock;
    }
    return entry.value;
  }

  set(key: string, value: StoredValue | null): void {
    const size = key.length * 2 + (value === null ? 0 : value.approximateBytes) + ENTRY_OVERHEAD_BYTES;
    this.delete(key);
    if (size > this.maxBytes) return;
    this.entries.set(key, { value, size, lastUse: ++this.useClock });
    this.usedBytes += size;
    if (this.usedBytes > this.maxBytes) this.evict();
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.usedBytes -= entry.size;
  }

  clear(): void {
    this.entries.clear();
    this.usedBytes = 0;
  }

  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.usedBytes <= this.maxBytes) break;
      this.entries.delete(key);
      this.usedBytes -= entry.size;
    }
  }
}
