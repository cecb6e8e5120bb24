/**
 * y-partykit's storage use (partykit-api.md §6.3): 128 KiB Uint8Array chunks under array-like
 * keys, read back with list({start, end: prefix + "#zzzzz"}), range reads with reverse + limit,
 * and compaction deleting keys in batches of 128 inside a transaction.
 */
import { describe, test, afterEach } from "node:test";
import assert from "node:assert/strict";
import type { RoomStorage } from "./contract.js";
import { ENGINE_KINDS, Harness } from "./test-support.js";

const CHUNK = 128 * 1024;
const pad = (n: number, width: number) => String(n).padStart(width, "0");
const updateKey = (doc: string, clock: number, chunk: number) => `"v1"#"${doc}"#"update"#${pad(clock, 9)}#${pad(chunk, 3)}`;
const updatePrefix = (doc: string, clock: number) => `"v1"#"${doc}"#"update"#${pad(clock, 9)}`;

async function putChunked(storage: RoomStorage, doc: string, clock: number, bytes: Uint8Array): Promise<void> {
  const writes: Array<Promise<void>> = [];
  for (let offset = 0, chunk = 0; offset < bytes.length; offset += CHUNK, chunk++) {
    writes.push(storage.put(updateKey(doc, clock, chunk), bytes.subarray(offset, offset + CHUNK)));
  }
  await Promise.all(writes);
}

async function readChunked(storage: RoomStorage, doc: string, clock: number): Promise<Uint8Array> {
  const prefix = updatePrefix(doc, clock);
  const parts = [...(await storage.list<Uint8Array>({ start: prefix, end: `${prefix}#zzzzz` })).values()];
  return Buffer.concat(parts);
}

for (const kind of ENGINE_KINDS) {
  describe(`y-partykit's access pattern on the ${kind} engine`, () => {
    let harness: Harness;
    afterEach(async () => harness.dispose());

    test("chunked updates round-trip exactly, range reads and batched compaction work", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room("doc");
      const big = new Uint8Array(CHUNK * 2 + 1000);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      await putChunked(storage, "doc", 0, big);
      for (let clock = 1; clock <= 200; clock++) void putChunked(storage, "doc", clock, new Uint8Array([clock & 0xff, 1, 2]));
      await storage.sync();

      const reader = (await harness.reopenIfDurable("doc")) ?? storage;
      const back = await readChunked(reader, "doc", 0);
      assert.equal(back.length, big.length);
      assert.ok(Buffer.from(back).equals(Buffer.from(big)));
      assert.deepEqual([...(await readChunked(reader, "doc", 7))], [7, 1, 2]);

      // The last update: a reverse range read with limit 1 between clock 0 and 0xFFFFFFFF.
      const last = await reader.list<Uint8Array>({
        start: updateKey("doc", 0, 0),
        end: updateKey("doc", 0xffffffff, 0),
        reverse: true,
        limit: 1,
      });
      assert.deepEqual([...last.keys()], [updateKey("doc", 200, 0)]);

      // Compaction: delete old update keys 128 at a time inside transactions.
      const old = [...(await reader.list({ start: updateKey("doc", 0, 0), end: updateKey("doc", 150, 0) })).keys()];
      assert.equal(old.length, 3 + 149);
      let deleted = 0;
      for (let i = 0; i < old.length; i += 128) {
        const batch = old.slice(i, i + 128);
        deleted += await reader.transaction(async (txn) => txn.delete(batch));
      }
      assert.equal(deleted, old.length);
      const remaining = await reader.list({ prefix: `"v1"#"doc"#"update"#` });
      assert.equal(remaining.size, 51, "clocks 150..200 remain (end is exclusive)");
      assert.equal([...remaining.keys()][0], updateKey("doc", 150, 0));
    });
  });
}
