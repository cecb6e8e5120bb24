import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { PostgresEngine } from "./pg-engine.js";
import { startTestNode, type TestNode } from "./engine-test-support.js";
import { createTestDatabase, type TestDatabase } from "./test-support.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(count: number, leaseMs = 30_000): Promise<{ db: TestDatabase; nodes: TestNode[] }> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  const nodes: TestNode[] = [];
  for (let i = 0; i < count; i++) {
    const node = await startTestNode(db.url, { nodeId: `node-${i}`, leaseMs });
    cleanups.push(() => node.stop());
    nodes.push(node);
  }
  return { db, nodes };
}

const write = (room: { party: string; room: string }, fence: number, key: string) => ({
  room,
  fence,
  deleteAll: false,
  entries: new Map([[key, new Uint8Array([1])]]),
  alarm: undefined,
});

test("concurrent claims of the same rooms by two nodes: each room is local on exactly one", async () => {
  const { nodes } = await setup(2);
  const rooms = Array.from({ length: 100 }, (_, i) => ({ party: "main", room: `r${i}` }));
  const results = await Promise.all(rooms.flatMap((ref) => nodes.map((node) => node.directory.acquire(ref))));
  for (let i = 0; i < rooms.length; i++) {
    const pair = [results[2 * i]!, results[2 * i + 1]!];
    assert.equal(pair.filter((result) => result.kind === "local").length, 1, `room ${i}: ${JSON.stringify(pair)}`);
  }
});

test("a stale owner's commit is fenced after a takeover and writes nothing; the new owner's commits land", async () => {
  const { nodes } = await setup(2);
  const [a, b] = nodes as [TestNode, TestNode];
  const ref = { party: "main", room: "taken" };
  const claimed = await a.directory.acquire(ref);
  assert.deepEqual(claimed, { kind: "local", epoch: 1 });
  assert.equal((await b.directory.acquire(ref)).kind, "remote", "a live owner keeps its room");
  const engineA = new PostgresEngine(a.pool, a.directory);
  assert.deepEqual(await engineA.commit([write(ref, 1, "first")]), { fenced: [] });

  const lost: string[] = [];
  a.directory.onLost((party, room) => lost.push(`${party}/${room}`));
  // a stops renewing and its lease ends: b may take the room over.
  await a.membership.stop();
  assert.deepEqual(await b.directory.acquire(ref), { kind: "local", epoch: 2 });
  const outcome = await engineA.commit([write(ref, 1, "zombie")]);
  assert.deepEqual(outcome.fenced, [ref]);
  const engineB = new PostgresEngine(b.pool, b.directory);
  assert.deepEqual(await engineB.commit([write(ref, 2, "second")]), { fenced: [] });
  assert.deepEqual([...(await engineB.list(ref, {})).map(([key]) => key)], ["first", "second"]);
  assert.ok(lost.length >= 1, "the fenced room was reported lost");
});

test("a takeover waits for an open transaction holding the fence, and that transaction's write is kept", async () => {
  const { nodes } = await setup(2);
  const [a, b] = nodes as [TestNode, TestNode];
  const ref = { party: "main", room: "race" };
  await a.directory.acquire(ref);
  const holder = await a.pool.connect();
  await holder.query("BEGIN");
  const held = await holder.query(
    "SELECT 1 FROM ph_rooms WHERE party = $1 AND room = $2 AND owner_node = $3 AND owner_epoch = 1 FOR SHARE",
    [ref.party, ref.room, a.directory.nodeId],
  );
  assert.equal(held.rowCount, 1);
  await a.membership.stop();
  let tookOver = false;
  const takeover = b.directory.acquire(ref).then((result) => ((tookOver = true), result));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(tookOver, false, "the takeover waits for the open fenced transaction");
  await holder.query("INSERT INTO ph_kv (party, room, key, value) VALUES ($1, $2, 'held', '\\x01')", [ref.party, ref.room]);
  await holder.query("COMMIT");
  holder.release();
  assert.deepEqual(await takeover, { kind: "local", epoch: 2 });
  const engineB = new PostgresEngine(b.pool, b.directory);
  assert.deepEqual((await engineB.list(ref, {})).map(([key]) => key), ["held"], "the write committed before the takeover is kept");
});

test("an orphaned due alarm is offered to every node and fired by exactly one claim", async () => {
  const { nodes } = await setup(3);
  const [a] = nodes as [TestNode, TestNode, TestNode];
  const ref = { party: "main", room: "alarmed" };
  await a.directory.acquire(ref);
  await new PostgresEngine(a.pool, a.directory).commit([{ ...write(ref, 1, "k"), alarm: Date.now() - 1 }]);
  await a.directory.releaseAll();
  const offered = await Promise.all(nodes.map((node) => node.directory.dueAlarms()));
  for (const due of offered) assert.deepEqual(due.map((alarm) => alarm.room.room), ["alarmed"]);
  const claims = await Promise.all(nodes.map((node) => node.directory.acquire(ref)));
  assert.equal(claims.filter((claim) => claim.kind === "local").length, 1);
  const owner = nodes[claims.findIndex((claim) => claim.kind === "local")]!;
  const others = nodes.filter((node) => node !== owner);
  for (const node of others) assert.deepEqual(await node.directory.dueAlarms(), [], "owned by a live node: not offered to others");
  assert.equal((await owner.directory.dueAlarms()).length, 1, "offered to its owner");
});
