/**
 * Cluster mode (issue 19, item 2): a room's storage object lives and dies with its instance.
 * After a commit failed and the node lost its lease, the room's next instance claims afresh at
 * the new epoch: its first write is not refused as "fenced", and the storage object of the
 * dropped instance is closed and forgotten, not left open in the service. Bounded: lease 3 s.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type * as Party from "../../src/types/party.js";
import type { GroupCommitStorageService } from "../../src/storage/service.js";
import { LEASE_MS, proxiedDatabase, storedKeys, waitFor } from "./cluster-support.js";
import { startInProcessNode } from "./in-process-node.js";

class Writer implements Party.Server {
  constructor(readonly room: Party.Room) {}
  async onRequest(req: Party.Request) {
    await this.room.storage.put(await req.text(), "v");
    return new Response("stored");
  }
}

test("after a failed commit and a lost lease, the next instance claims afresh: no spurious fenced write, no storage left open", async () => {
  const { db, url, proxy } = await proxiedDatabase();
  const node = await startInProcessNode(url, { main: Writer }, LEASE_MS);
  try {
    const storage = node.cluster.storage as GroupCommitStorageService;
    const post = (key: string) =>
      fetch(`http://${node.address}/parties/main/r`, { method: "POST", body: key, signal: AbortSignal.timeout(15_000) });
    const first = await post("a");
    assert.deepEqual([first.status, await first.text()], [200, "stored"]);
    assert.equal(storage.openRooms, 1);

    await proxy.stop();
    const failed = await post("b");
    await failed.arrayBuffer();
    assert.notEqual(failed.status, 200, "nothing is acknowledged that did not commit");
    assert.ok(await waitFor(() => node.cluster.membership.state === "fenced", LEASE_MS + 2_000), "the node fenced itself");
    await proxy.start();
    assert.ok(await waitFor(() => node.cluster.membership.isLive, 10_000), "the node registered again");
    assert.equal(storage.openRooms, 0, "the dropped instance's storage was closed and forgotten");

    const again = await post("c");
    assert.deepEqual([again.status, await again.text()], [200, "stored"], "the new instance writes at its own epoch");
    assert.deepEqual([...(await storedKeys(db, "r"))].sort(), ["a", "c"]);
  } finally {
    await node.close();
  }
});
