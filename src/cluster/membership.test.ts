import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { startTestNode } from "./engine-test-support.js";
import { createTestDatabase } from "./test-support.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

test("renewals delete nodes whose lease expired long ago and that own no room, and keep the others", async () => {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  // Lease 1 s: renewals every 200 ms, a sweep every 2 s, dead for good after 10 s.
  const node = await startTestNode(db.url, { nodeId: "live", leaseMs: 1_000 });
  cleanups.push(() => node.stop());
  await node.pool.query(
    `INSERT INTO ph_nodes (node_id, incarnation, address, lease_expires_at) VALUES
       ('dead', 1, 'x:1', now() - interval '1 hour'),
       ('dead-taken-over', 1, 'x:2', now() - interval '1 hour'),
       ('dead-holding', 1, 'x:3', now() - interval '1 hour'),
       ('recently-dead', 1, 'x:4', now() - interval '2 seconds')`,
  );
  // dead-taken-over's room was claimed by live since; dead-holding's room nobody took yet.
  await node.pool.query(
    `INSERT INTO ph_rooms (party, room, owner_node, owner_incarnation, owner_epoch, claimed_at) VALUES
       ('main', 'taken', 'live', $1, 2, now()),
       ('main', 'held', 'dead-holding', 1, 1, now())`,
    [node.membership.incarnation],
  );
  const nodeIds = async () =>
    (await node.pool.query<{ node_id: string }>("SELECT node_id FROM ph_nodes ORDER BY node_id")).rows.map((row) => row.node_id);
  const deadline = Date.now() + 10_000;
  while ((await nodeIds()).includes("dead") && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(await nodeIds(), ["dead-holding", "live", "recently-dead"]);
});
