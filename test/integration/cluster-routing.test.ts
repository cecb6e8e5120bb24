/**
 * Cluster mode end to end (issue 10), routing: clients of one room through different nodes share
 * one instance; room-to-room calls and alarms go through the same routing.
 * Bounded: lease 3 s, every wait has a deadline.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { WebSocket } from "ws";
import {
  cluster,
  roomFetch,
  opened,
  onStartCounts,
  ownerOf,
  storedKeys,
  waitFor,
  waitForAsync,
} from "./cluster-support.js";

test("clients of one room connected through different nodes see each other's broadcasts; one instance", async () => {
  const { db, nodes } = await cluster(3);
  const room = "shared";
  const clients = nodes.map((node) => {
    const ws = new WebSocket(`ws://${node.address}/parties/main/${room}`);
    const messages: string[] = [];
    ws.on("message", (data) => messages.push(data.toString()));
    return { node, ws, messages };
  });
  await Promise.all(clients.map((client) => opened(client.ws)));
  const owner = (await ownerOf(db, room)).node;
  const ownerName = nodes.find((node) => node.address === owner)!.name;
  for (const client of clients) assert.ok(await waitFor(() => client.messages.includes(`hello from ${ownerName}`)), "onConnect ran on the owner");
  for (const client of clients) client.ws.send(`say:${client.node.name}`);
  const expected = clients.map((client) => `say:${client.node.name} via ${ownerName}`);
  for (const client of clients) {
    const all = await waitFor(() => expected.every((message) => client.messages.includes(message)));
    assert.ok(all, `client via ${client.node.name} saw every broadcast: ${JSON.stringify(client.messages)}`);
  }
  assert.equal(onStartCounts(nodes).get(room), 1, "one instance of the room in the cluster");
  for (const client of clients) client.ws.close();
});


test("room.context.parties calls and alarms go through the same routing: across nodes, on the owner", async () => {
  const { db, nodes } = await cluster(3);
  const names = new Map(nodes.map((node) => [node.address, node.name]));
  // A room nobody holds is claimed by the node its first client reached: A on n0, B on n1.
  const [a, b] = ["p0", "p1"];
  for (const [room, via] of [[a, nodes[0]!], [b, nodes[1]!]] as const) {
    const response = await roomFetch(via.address, `/parties/main/${room}`);
    assert.equal(response.status, 200);
    await response.arrayBuffer();
  }
  const ownerA = (await ownerOf(db, a)).node!;
  const ownerB = (await ownerOf(db, b)).node!;
  assert.deepEqual([ownerA, ownerB], [nodes[0]!.address, nodes[1]!.address]);
  const entry = nodes.find((node) => node.address !== ownerA)!;
  const called = await roomFetch(entry.address, `/parties/main/${a}?call=${b}`);
  assert.equal(await called.text(), `${names.get(ownerA)} -> ${names.get(ownerB)}`, "A ran on its owner and reached B on B's owner");

  const viaGet = await roomFetch(entry.address, `/parties/main/${a}?alarm`);
  assert.equal(await viaGet.text(), "alarm set");
  assert.ok(await waitForAsync(async () => (await storedKeys(db, a)).has("alarm")), "the alarm fired");
  const list = await roomFetch(entry.address, `/parties/main/${a}?list`);
  assert.equal(((await list.json()) as Record<string, string>).alarm, names.get(ownerA), "on the room's owner");
});
