/**
 * The checksum of one room's content, the same whatever the store: SHA-256 over each entry in
 * key order as `u32 key length | key | u32 value length | value` (big-endian lengths, stored
 * bytes), then, when the room has an alarm, `0x01 | f64 time` (big-endian). Exports carry it per room;
 * migrate compares it between source and target.
 */
import { createHash, type Hash } from "node:crypto";

export interface RoomSummary {
  readonly party: string;
  readonly room: string;
  readonly keys: number;
  /** Bytes of keys and values. */
  readonly bytes: number;
  readonly alarm: number | null;
  /** Hex SHA-256 (see the top of this file). */
  readonly sha256: string;
}

export class RoomDigest {
  keys = 0;
  bytes = 0;
  alarm: number | null = null;
  private readonly hash: Hash = createHash("sha256");
  private readonly lengths = Buffer.alloc(4);

  constructor(
    readonly party: string,
    readonly room: string,
  ) {}

  entry(key: Uint8Array, value: Uint8Array): void {
    this.keys++;
    this.bytes += key.byteLength + value.byteLength;
    this.length(key.byteLength);
    this.hash.update(key);
    this.length(value.byteLength);
    this.hash.update(value);
  }

  setAlarm(time: number): void {
    this.alarm = time;
  }

  finish(): RoomSummary {
    if (this.alarm !== null) {
      const tail = Buffer.alloc(9);
      tail[0] = 1;
      tail.writeDoubleBE(this.alarm, 1);
      this.hash.update(tail);
    }
    return { party: this.party, room: this.room, keys: this.keys, bytes: this.bytes, alarm: this.alarm, sha256: this.hash.digest("hex") };
  }

  private length(n: number): void {
    this.lengths.writeUInt32BE(n, 0);
    this.hash.update(this.lengths);
  }
}
