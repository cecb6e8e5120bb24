/**
 * Deleting a room's storage on a cluster node (PostgreSQL, with room ownership): the room is
 * claimed first so the delete is a fenced commit, released afterwards, and refused when another
 * live node holds it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { clusterRouting } from "../cluster/index.js";
import { PostgresEngine } from "../cluster/pg-engine.js";
import { startTestNode, type TestNode } from "../cluster/engine-test-support.js";
import { createTestDatabase, type TestDatabase } from "../cluster/test-support.js";
import { GroupCommitStorageService } from "../storage/service.js";
import { startTestServer, type TestServer } from "../testing/index.js";
import type * as Party from "../types/party.js";
import { getJson } from "./test-support.js";

class Keeper implements Party.Server {
  constructor(readonly room: Party.Room) {}
  async onRequest() {
    await this.room.storage.put("k", "v");
    await this.room.storage.setAlarm(Date.now() + 3_600_000);
    return new Response("stored");
  }
}

let database: TestDatabase;
let nodeA: TestNode;
let nodeB: TestNode;
let server: TestServer;

before(async () => {
  database = await createTestDatabase();
  nodeA = await startTestNode(database.url, { nodeId: "a" });
  const storage = new GroupCommitStorageService(new PostgresEngine(nodeA.pool, nodeA.directory));
  server = await startTestServer({ parties: { main: Keeper }, storage, admin: { port: 0 }, cluster: clusterRouting(nodeA.directory) });
  nodeB = await startTestNode(database.url, { nodeId: "b" });
});

after(async () => {
  await server.close();
  await nodeA.stop();
  await nodeB.stop();
  await database.drop();
});

async function rows(sql: string, values: unknown[]): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows;
  } finally {
    await client.end();
  }
}

describe("deleting a room's storage in a cluster", () => {
  it("claims the room, deletes its keys and alarm, and releases it", async () => {
    // The hash may place the room on b: ask a for it until a owns it.
    let room = "";
    for (let i = 0; room === ""; i++) {
      const located = await nodeA.directory.locate({ party: "main", room: `r${i}` });
      if (located.kind === "local") room = `r${i}`;
    }
    assert.equal(await (await server.fetch(`/parties/main/${room}`)).text(), "stored");
    const url = `${server.server.adminUrl}/api/parties/main/rooms/${room}/storage`;
    assert.equal((await getJson(url, { method: "DELETE" })).status, 409);
    const deleted = await getJson(`${url}?force=true`, { method: "DELETE" });
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.deepEqual(await rows("SELECT key FROM ph_kv WHERE party = 'main' AND room = $1", [room]), []);
    assert.deepEqual(await rows("SELECT time FROM ph_alarms WHERE party = 'main' AND room = $1", [room]), []);
    assert.deepEqual(await rows("SELECT owner_node FROM ph_rooms WHERE party = 'main' AND room = $1", [room]), [{ owner_node: null }]);
  });

  it("is refused for a room another live node holds", async () => {
    const held = await nodeB.directory.acquire({ party: "main", room: "held-by-b" });
    assert.equal(held.kind, "local");
    const refused = await getJson(`${server.server.adminUrl}/api/parties/main/rooms/held-by-b/storage?force=true`, { method: "DELETE" });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.owner, "b");
  });
});
