/**
 * The limits of Durable Object KV storage that PartyKit exposes, with the exact errors its
 * runtime throws (partykit-api.md §1.10), so code that catches them keeps working.
 */
export const MAX_KEY_BYTES = 2048;
export const MAX_VALUE_BYTES = 128 * 1024;
/**
 * V8's serialization adds a few bytes of tags (a 131072-byte Uint8Array serializes to 131079
 * bytes), and Cloudflare accepts values slightly over the advertised size. Like Miniflare we
 * accept up to 32 bytes of that overhead, so y-partykit's 128 KiB chunks fit; the error still
 * names the advertised limit and the full serialized size.
 */
export const VALUE_TAG_TOLERANCE = 32;
export const MAX_BATCH_KEYS = 128;

export function checkKeySize(key: string): void {
  // Each UTF-16 unit is at most 3 UTF-8 bytes: short keys need no exact count.
  if (key.length * 3 <= MAX_KEY_BYTES) return;
  const size = Buffer.byteLength(key, "utf8");
  if (size > MAX_KEY_BYTES) {
    throw new RangeError(
      `Keys cannot be larger than ${MAX_KEY_BYTES} bytes. A key of size ${size} was provided.`,
    );
  }
}

export function checkValueSize(serializedBytes: number): void {
  if (serializedBytes > MAX_VALUE_BYTES + VALUE_TAG_TOLERANCE) {
    throw new RangeError(
      `Values cannot be larger than ${MAX_VALUE_BYTES} bytes. A value of size ${serializedBytes} was provided.`,
    );
  }
}

export function checkBatchSize(count: number): void {
  if (count > MAX_BATCH_KEYS) {
    throw new RangeError(
      `Maximum number of key value pairs is ${MAX_BATCH_KEYS}. ${count} pairs were provided.`,
    );
  }
}

export function checkListLimit(limit: number | undefined): void {
  if (limit !== undefined && !(limit > 0)) throw new TypeError("List limit must be positive.");
}
