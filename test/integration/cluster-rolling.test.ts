/**
 * Cluster mode end to end (issue 10): a rolling SIGTERM restart of every node (drain: rooms
 * handed back one by one, sockets 1012, exit 0) under partysocket writers that entered through
 * different nodes: no acknowledged write lost, every client reconnected.
 * Bounded: lease 3 s, every wait has a deadline.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import PartySocket from "partysocket";
import { WebSocket } from "ws";
import { cluster, onStartCounts, roomEpochs, startNode, storedKeys, waitFor } from "./cluster-support.js";

test("rolling restart of all three nodes under partysocket writers: every client reconnects, no acknowledged write lost", async () => {
  const { db, nodes } = await cluster(3);
  const rooms = ["roll-a", "roll-b", "roll-c"];
  interface Writer {
    socket: PartySocket;
    acked: Set<string>;
    lastAckAt: number;
    opens: number;
  }
  const writers: Writer[] = [];
  // Two clients per room, each entering through a different node.
  for (let i = 0; i < 6; i++) {
    const node = nodes[i % nodes.length]!;
    const socket = new PartySocket({
      host: node.address,
      room: rooms[i % rooms.length]!,
      id: `writer-${i}`,
      WebSocket,
      minReconnectionDelay: 100,
      maxReconnectionDelay: 500,
      connectionTimeout: 4_000,
    });
    const writer: Writer = { socket, acked: new Set(), lastAckAt: 0, opens: 0 };
    socket.addEventListener("open", () => writer.opens++);
    socket.addEventListener("message", (event) => {
      const text = String(event.data);
      if (text.startsWith("ack ")) {
        writer.acked.add(text.slice(4));
        writer.lastAckAt = Date.now();
      }
    });
    writers.push(writer);
  }
  let writing = true;
  let sent = 0;
  const pump = (async () => {
    while (writing) {
      for (const [i, writer] of writers.entries()) {
        // Only on an open socket: a write queued in partysocket is not yet a write.
        if (writer.socket.readyState === WebSocket.OPEN) writer.socket.send(`w${i}-${sent}`);
      }
      sent++;
      await sleep(50);
    }
  })();
  assert.ok(await waitFor(() => writers.every((writer) => writer.acked.size > 0), 15_000), "every writer is acknowledged before the restarts");

  for (const [index, node] of nodes.entries()) {
    const code = await node.server.stop("SIGTERM");
    assert.equal(code, 0, `${node.name} exited 0 after draining`);
    const port = Number(node.address.split(":")[1]);
    nodes[index] = await startNode(node.name, db.url, port);
    const restartedAt = Date.now();
    assert.ok(
      await waitFor(() => writers.every((writer) => writer.lastAckAt > restartedAt), 20_000),
      `every writer acknowledged again after ${node.name} restarted`,
    );
  }
  writing = false;
  await pump;
  await sleep(300);
  for (const writer of writers) {
    assert.equal(writer.socket.readyState, WebSocket.OPEN, "every client reconnected");
    assert.ok(writer.opens >= 2, "each client reconnected at least once");
  }
  for (const [i, writer] of writers.entries()) {
    const keys = await storedKeys(db, rooms[i % rooms.length]!);
    const lost = [...writer.acked].filter((key) => !keys.has(key));
    assert.deepEqual(lost, [], `writer ${i}: every acknowledged write is stored`);
  }
  const counts = onStartCounts(nodes);
  const epochs = await roomEpochs(db);
  for (const room of rooms) assert.ok((counts.get(room) ?? 0) <= (epochs.get(room) ?? 0), `${room}: no instance without its own claim`);
  for (const writer of writers) writer.socket.close();
});

