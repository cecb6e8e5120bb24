/**
 * Cluster mode end to end (issue 10): `partyhouse start --cluster` processes on 127.0.0.1 over
 * one PostgreSQL database of the test's own (test/integration/cluster-support.ts). Clients talk
 * to any node: a node that does not own the room forwards HTTP and WebSockets to the owner.
 * This file: placement (500 rooms, one onStart each) and fencing of a paused owner.
 * Bounded: lease 3 s, every wait has a deadline.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { WebSocket } from "ws";
import {
  LEASE_MS,
  cluster,
  roomFetch,
  opened,
  onStartCounts,
  ownerOf,
  roomEpochs,
  storedKeys,
} from "./cluster-support.js";

test("concurrent first requests for 500 rooms on three nodes: one onStart per room, rooms spread", async () => {
  const { db, nodes } = await cluster(3);
  const rooms = Array.from({ length: 500 }, (_, i) => `r${i}`);
  const answers = new Map<string, Set<string>>();
  const jobs = rooms.flatMap((room) => nodes.map((node) => ({ room, node })));
  // Shuffled, 60 at a time: every room is asked on all three nodes at about the same moment.
  jobs.sort(() => Math.random() - 0.5);
  let next = 0;
  await Promise.all(
    Array.from({ length: 60 }, async () => {
      while (next < jobs.length) {
        const { room, node } = jobs[next++]!;
        const response = await roomFetch(node.address, `/parties/main/${room}`);
        assert.equal(response.status, 200, `${room} via ${node.name}: ${response.status} ${await response.clone().text()}`);
        const served = await response.text();
        (answers.get(room) ?? answers.set(room, new Set()).get(room)!).add(served);
      }
    }),
  );
  for (const room of rooms) assert.equal(answers.get(room)!.size, 1, `${room} served by one node: ${[...answers.get(room)!]}`);
  const counts = onStartCounts(nodes);
  // On a loaded machine a room asked early may be evicted (15 s idle), released and claimed
  // again before the last request: that is a new epoch and rightly a new onStart. What must
  // never happen is an instance without its own claim: onStarts == claims (the epoch).
  const epochs = await roomEpochs(db);
  let once = 0;
  for (const room of rooms) {
    assert.equal(counts.get(room), epochs.get(room), `${room}: onStart ran ${counts.get(room) ?? 0} times, claimed ${epochs.get(room)} times`);
    if (counts.get(room) === 1) once++;
  }
  assert.ok(once >= 400, `most rooms started exactly once: ${once} of 500`);
  const perNode = new Map<string, number>();
  for (const served of answers.values()) for (const node of served) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  for (const node of nodes) assert.ok((perNode.get(node.name) ?? 0) > 80, `rooms spread: ${JSON.stringify([...perNode])}`);
});


test("SIGSTOP the owner past its lease: another node takes over; the old owner's write never lands and its sockets close 1012", async () => {
  const { db, nodes } = await cluster(2);
  const room = "paused";
  const first = await roomFetch(nodes[0]!.address, `/parties/main/${room}`, { method: "POST", body: JSON.stringify({ key: "before", value: "1" }) });
  assert.equal(first.status, 200);
  await first.arrayBuffer();
  const ownerAddress = (await ownerOf(db, room)).node;
  const owner = nodes.find((node) => node.address === ownerAddress)!;
  assert.ok(owner, "the room has an owner");
  const other = nodes.find((node) => node !== owner)!;

  const ws = new WebSocket(`ws://${owner.address}/parties/main/${room}`);
  const messages: string[] = [];
  ws.on("message", (data) => messages.push(data.toString()));
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  await opened(ws);

  process.kill(owner.server.child.pid!, "SIGSTOP");
  // Sent while the owner is stopped: it reaches the owner's kernel buffer, and the owner reads it on SIGCONT.
  ws.send("zombie-write");
  await sleep(LEASE_MS + 1_500);
  const takeover = await roomFetch(other.address, `/parties/main/${room}`, { method: "POST", body: JSON.stringify({ key: "after", value: "2" }) });
  assert.equal(takeover.status, 200, await takeover.text());
  const afterTakeover = await ownerOf(db, room);
  assert.equal(afterTakeover.node, other.address, "the live node took the room");

  process.kill(owner.server.child.pid!, "SIGCONT");
  const code = await Promise.race([closed, sleep(10_000).then(() => -1)]);
  assert.equal(code, 1012, "the old owner's socket closed with 1012");
  assert.ok(!messages.includes("ack zombie-write"), `no acknowledgement from the old owner: ${messages}`);
  await sleep(500);
  const keys = await storedKeys(db, room);
  assert.ok(keys.has("before") && keys.has("after"));
  assert.ok(!keys.has("zombie-write"), "the old owner's write did not land after the takeover");
  assert.equal((await ownerOf(db, room)).epoch, afterTakeover.epoch, "ownership did not move back");
  assert.match(owner.server.output(), /fenced/);
});

