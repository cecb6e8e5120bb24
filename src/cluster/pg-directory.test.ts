import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { PostgresEngine } from "./pg-engine.js";
import { preferredNode } from "./rendezvous.js";
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
  a.directory.onLost((ref) => lost.push(`${ref.party}/${ref.room}`));
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

/** Owner and epoch of each room, as the database has them. */
async function rowsOf(node: TestNode): Promise<Map<string, { owner: string | null; epoch: number; xmin: string }>> {
  const result = await node.pool.query<{ room: string; owner_node: string | null; owner_epoch: string; xmin: string }>(
    "SELECT room, owner_node, owner_epoch, xmin::text AS xmin FROM ph_rooms",
  );
  return new Map(result.rows.map((row) => [row.room, { owner: row.owner_node, epoch: Number(row.owner_epoch), xmin: row.xmin }]));
}

test("many concurrent acquisitions on two nodes, in opposite orders: one owner per room, and its epoch agrees everywhere", async () => {
  const { nodes } = await setup(2);
  const [a, b] = nodes as [TestNode, TestNode];
  // More than one batch, asked in opposite orders: batches must not deadlock on each other.
  const rooms = Array.from({ length: 700 }, (_, i) => ({ party: "main", room: `m${i}` }));
  for (const round of [1, 2]) {
    const [fromA, fromB] = await Promise.all([
      Promise.all(rooms.map((ref) => a.directory.acquire(ref))),
      Promise.all([...rooms].reverse().map((ref) => b.directory.acquire(ref))).then((results) => results.reverse()),
    ]);
    const rows = await rowsOf(a);
    for (let i = 0; i < rooms.length; i++) {
      const ref = rooms[i]!;
      const pair = [fromA[i]!, fromB[i]!];
      const winners = pair.filter((result) => result.kind === "local");
      assert.equal(winners.length, 1, `round ${round}, ${ref.room}: ${JSON.stringify(pair)}`);
      const [winner, loser] = pair[0]!.kind === "local" ? [a, b] : [b, a];
      const won = winners[0]!;
      const lost = pair.find((result) => result.kind === "remote")!;
      const row = rows.get(ref.room)!;
      // The first claim makes epoch 1, the claim after a release 2; a refused claim bumps nothing.
      assert.deepEqual(won, { kind: "local", epoch: round }, ref.room);
      assert.equal(row.owner, winner.directory.nodeId, ref.room);
      assert.equal(row.epoch, round, ref.room);
      assert.equal(winner.directory.epochOf(ref), round, ref.room);
      assert.throws(() => loser.directory.epochOf(ref), /not owned by this node/);
      assert.deepEqual(lost, { kind: "remote", nodeId: winner.directory.nodeId, address: winner.membership.address });
    }
    await Promise.all(rooms.map((ref) => Promise.all([a.directory.release(ref, Promise.resolve()), b.directory.release(ref, Promise.resolve())])));
    assert.ok([...(await rowsOf(a)).values()].every((row) => row.owner === null), "every room released");
  }
});

test("claims and releases asked in one turn share one transaction per 500 rooms", async () => {
  const { nodes } = await setup(1);
  const [a] = nodes as [TestNode];
  const rooms = Array.from({ length: 700 }, (_, i) => ({ party: "main", room: `t${i}` }));
  const claimed = await Promise.all(rooms.map((ref) => a.directory.acquire(ref)));
  assert.ok(claimed.every((result) => result.kind === "local" && result.epoch === 1));
  const claimTransactions = new Set([...(await rowsOf(a)).values()].map((row) => row.xmin));
  assert.equal(claimTransactions.size, 2, "700 claims: a batch of 500 and one of 200");
  await Promise.all(rooms.map((ref) => a.directory.release(ref, Promise.resolve())));
  const released = [...(await rowsOf(a)).values()];
  assert.ok(released.every((row) => row.owner === null));
  assert.equal(new Set(released.map((row) => row.xmin)).size, 2, "700 releases: two statements");
});

test("one batch mixing every case gives each room the answer it would get alone", async () => {
  const { nodes } = await setup(3);
  const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
  const ref = (room: string) => ({ party: "main", room });
  await a.directory.acquire(ref("held")); // a live owner keeps it
  await c.directory.acquire(ref("orphan")); // its owner's lease ends below
  await b.directory.acquire(ref("back")); // released, then claimed again by the same node
  await b.directory.release({ party: "main", room: "back" }, Promise.resolve());
  await c.membership.stop();
  const [fresh, held, orphan, back] = await Promise.all(["fresh", "held", "orphan", "back"].map((room) => b.directory.acquire(ref(room))));
  assert.deepEqual(fresh, { kind: "local", epoch: 1 });
  assert.deepEqual(held, { kind: "remote", nodeId: a.directory.nodeId, address: a.membership.address });
  assert.deepEqual(orphan, { kind: "local", epoch: 2 });
  assert.deepEqual(back, { kind: "local", epoch: 2 });
  const rows = await rowsOf(b);
  assert.equal(rows.get("held")!.owner, a.directory.nodeId);
  assert.equal(rows.get("held")!.epoch, 1, "the refused takeover bumped nothing");
  const claimedTogether = new Set(["fresh", "orphan", "back"].map((room) => rows.get(room)!.xmin));
  assert.equal(claimedTogether.size, 1, "the three claims were one transaction");
});

test("locate goes to a room's preferred node without a lookup, and asks the database after a stale route", async () => {
  const { nodes } = await setup(3, 1_000);
  const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
  for (const node of nodes) {
    for (const deadline = Date.now() + 5_000; node.membership.liveNodes.length < 3 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  // A room whose preferred node is b, held by c (as after b joined the cluster late).
  const ids = nodes.map((node) => node.membership.nodeId);
  let room = "";
  for (let i = 0; preferredNode(ids, "main", room) !== "node-1"; i++) room = `elsewhere-${i}`;
  const ref = { party: "main", room };
  assert.equal((await c.directory.acquire(ref)).kind, "local", "c holds it");

  const optimistic = await a.directory.locate({ party: "main", room });
  assert.deepEqual([optimistic.kind, optimistic.kind === "remote" && optimistic.nodeId], ["remote", "node-1"], "straight to the preferred node");
  const moved = await b.directory.acquire(ref);
  assert.deepEqual([moved.kind, moved.kind === "remote" && moved.nodeId], ["remote", "node-2"], "which says who holds it");
  a.directory.invalidate({ party: "main", room });
  const looked = await a.directory.locate({ party: "main", room });
  assert.deepEqual([looked.kind, looked.kind === "remote" && looked.nodeId], ["remote", "node-2"], "after the stale route: the owner");
  assert.deepEqual(await a.directory.locate({ party: "main", room }), looked, "and it is remembered");
});

test("locate places a room by the live set as it is after its owner lookup, even if the preferred node left meanwhile", async () => {
  const { nodes } = await setup(2, 1_000);
  const [a] = nodes as [TestNode, TestNode];
  for (const deadline = Date.now() + 5_000; a.membership.liveNodes.length < 2 && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const ids = nodes.map((node) => node.membership.nodeId);
  let room = "";
  for (let i = 0; preferredNode(ids, "main", room) !== "node-1"; i++) room = `leaving-${i}`;
  a.directory.invalidate({ party: "main", room }); // a stale route: the next locate looks the owner up
  const located = a.directory.locate({ party: "main", room });
  // A renewal lands while the lookup is in flight: node-1 is no longer live in a's view.
  a.membership.liveNodes = a.membership.liveNodes.filter((node) => node.nodeId !== "node-1");
  assert.deepEqual(await located, { kind: "local", epoch: 1 }, "nobody holds it and a is the only live node left");
});

test("hand-off: after the drop, the room is the other node's; this node builds nothing meanwhile, the other's first claim succeeds at once", async () => {
  const { db, nodes } = await setup(2);
  const [a, b] = nodes as [TestNode, TestNode];
  const ref = { party: "main", room: "handed" };
  assert.deepEqual(await a.directory.acquire(ref), { kind: "local", epoch: 1 });
  let dropped = false;
  let releaseDrop!: () => void;
  const handed = a.directory.handOff(ref, b.directory.nodeId, () => new Promise<void>((resolve) => (releaseDrop = resolve)).then(() => void (dropped = true)));
  // While the drop runs, a build here waits, then finds the new owner.
  const meanwhile = a.directory.acquire(ref);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(dropped, false);
  releaseDrop();
  await handed;
  const found = await meanwhile;
  assert.equal(found.kind, "remote");
  assert.equal(found.kind === "remote" && found.nodeId, b.directory.nodeId);
  // The other node's claim: "its already", at the next epoch.
  assert.deepEqual(await b.directory.acquire(ref), { kind: "local", epoch: 2 });
  const client = new (await import("pg")).default.Client(db.url);
  await client.connect();
  const { rows } = await client.query("SELECT owner_node, owner_epoch FROM ph_rooms WHERE party = 'main' AND room = 'handed'");
  await client.end();
  assert.deepEqual(rows, [{ owner_node: b.directory.nodeId, owner_epoch: "2" }]);
});

test("hand-off to a node that is not live releases the room instead, for its next client to place", async () => {
  const { nodes } = await setup(2);
  const [a, b] = nodes as [TestNode, TestNode];
  const ref = { party: "main", room: "released" };
  await a.directory.acquire(ref);
  await a.directory.handOff(ref, "gone-node", async () => {});
  // Nobody holds it: b (a client reached it) claims it at once.
  assert.deepEqual(await b.directory.acquire(ref), { kind: "local", epoch: 2 });
});

test("a due alarm of a room handed here and not claimed yet is claimed by the poll, so it fires here", async () => {
  const { nodes } = await setup(2);
  const [a, b] = nodes as [TestNode, TestNode];
  const ref = { party: "main", room: "alarmed" };
  await a.directory.acquire(ref);
  const engineA = new PostgresEngine(a.pool, a.directory);
  await engineA.commit([{ room: ref, fence: 1, deleteAll: false, entries: new Map(), alarm: Date.now() - 1 }]);
  await a.directory.handOff(ref, b.directory.nodeId, async () => {});
  assert.deepEqual(await a.directory.dueAlarms(), [], "no longer a's");
  const due = await b.directory.dueAlarms();
  assert.deepEqual(due.map((alarm) => alarm.room), [ref]);
  assert.equal(b.directory.ownedCount, 1, "claimed by the poll");
  assert.deepEqual(await b.directory.locate(ref), { kind: "local", epoch: 2 });
});
