/**
 * Cluster mode (issue 19, item 3): a database outage as clients see it. Shorter than the lease,
 * it only delays acknowledgements (commits and reads are sent again while the lease holds) and
 * closes no socket. Longer, the node fences itself: sockets close with 1012 and requests get
 * 503 + Retry-After. A commit refused by the room's fence is a 503 too. No answer carries
 * internal text (addresses, database errors, "fenced"). Bounded: leases of 3 and 6 s.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type * as Party from "../../src/types/party.js";
import { TestSocket } from "../../src/testing/index.js";
import type { TestDatabase } from "../../src/cluster/test-support.js";
import { LEASE_MS, proxiedDatabase, storedKeys, waitFor } from "./cluster-support.js";
import { startInProcessNode, type InProcessNode } from "./in-process-node.js";

class Ledger implements Party.Server {
  constructor(readonly room: Party.Room) {}
  async onRequest(req: Party.Request) {
    if (req.method === "POST") {
      await this.room.storage.put(await req.text(), "v");
      return new Response("stored");
    }
    // A key never read before, so the read goes to the database.
    const key = new URL(req.url).searchParams.get("key")!;
    return new Response(String((await this.room.storage.get(key)) ?? "absent"));
  }
  async onMessage(message: string | ArrayBuffer, connection: Party.Connection) {
    await this.room.storage.put(String(message), "v");
    connection.send(`ack ${String(message)}`);
  }
}

const INTERNAL = /127\.0\.0\.1|ECONN|fenced|postgres|connect/i;

function client(node: InProcessNode) {
  const at = `http://${node.address}/parties/main/r`;
  return {
    post: (key: string) => fetch(at, { method: "POST", body: key, signal: AbortSignal.timeout(20_000) }),
    read: (key: string) => fetch(`${at}?key=${key}`, { signal: AbortSignal.timeout(20_000) }),
    socket: () => TestSocket.open(`ws://${node.address}/parties/main/r`),
  };
}

/** Runs `body` against a node of its own, over a database reached through a proxy the test can cut. */
async function withNode(
  leaseMs: number,
  body: (node: InProcessNode, db: TestDatabase, proxy: Awaited<ReturnType<typeof proxiedDatabase>>["proxy"]) => Promise<void>,
): Promise<void> {
  const { db, url, proxy } = await proxiedDatabase();
  const node = await startInProcessNode(url, { main: Ledger }, leaseMs);
  try {
    await body(node, db, proxy);
  } finally {
    await node.close();
  }
}

/** The status, Retry-After and body of a response that must be a clean 503. */
async function assertRetryLater(response: Response, what: string): Promise<void> {
  const body = await response.text();
  assert.equal(response.status, 503, `${what}: ${response.status} ${body}`);
  assert.equal(response.headers.get("retry-after"), "1", what);
  assert.doesNotMatch(body, INTERNAL, what);
}

test("an outage shorter than the lease delays acknowledgements and closes no socket; nothing is acknowledged before it is stored", async () => {
  // Lease 6 s: renewals every 1.2 s, self-fence 4.8 s after the last renewal was sent.
  await withNode(6_000, async (node, db, proxy) => {
    const { post, read, socket: open } = client(node);
    assert.equal((await post("a")).status, 200);
    const socket = await open();
    socket.send("m1");
    assert.equal(await socket.nextText(), "ack m1");
    let socketClosed = false;
    void socket.closed.then(() => (socketClosed = true));

    await proxy.stop();
    const settled: string[] = [];
    const write = post("b").then((response) => (settled.push("write"), response));
    const reading = read("fresh").then((response) => (settled.push("read"), response));
    socket.send("m2");
    const ack = socket.nextText(20_000).then((text) => (settled.push("ack"), text));
    await sleep(1_500);
    assert.deepEqual(settled, [], "nothing answered while the database was away");
    assert.deepEqual([...(await storedKeys(db, "r"))].sort(), ["a", "m1"], "and nothing of it was stored yet");
    await proxy.start();

    const written = await write;
    assert.deepEqual([written.status, await written.text()], [200, "stored"]);
    const value = await reading;
    assert.deepEqual([value.status, await value.text()], [200, "absent"]);
    assert.equal(await ack, "ack m2");
    assert.deepEqual([...(await storedKeys(db, "r"))].sort(), ["a", "b", "m1", "m2"]);
    assert.equal(socketClosed, false, "the socket stayed open");
    assert.equal(node.cluster.membership.state, "live");
    assert.ok(!node.logs.some((entry) => entry.event === "cluster node fenced itself"), "the node never fenced itself");
    socket.terminate();
  });
});

test("an outage that ends before the lease deadline costs no fence, even when renewals were failing until just before it", async () => {
  // Lease 3 s: renewals every 600 ms, the deadline 2.4 s after the last one was sent.
  await withNode(LEASE_MS, async (node, _db, proxy) => {
    const { membership } = node.cluster;
    const renewed = membership.lastAnsweredAt;
    assert.ok(await waitFor(() => membership.lastAnsweredAt !== renewed, 2_000), "a renewal");
    const deadline = membership.lastAnsweredAt + 2_400;
    await proxy.stop();
    // Back 400 ms before the deadline: renewals at their usual period (600 ms) would next try
    // only at the deadline itself; after a failure they try again every 150 ms.
    await sleep(deadline - 400 - performance.now());
    await proxy.start();
    await sleep(1_000);
    assert.equal(membership.state, "live");
    assert.ok(!node.logs.some((entry) => entry.event === "cluster node fenced itself"), "the node never fenced itself");
  });
});

test("an outage longer than the lease: 503 + Retry-After without internal text, sockets closed with 1012", async () => {
  await withNode(LEASE_MS, async (node, _db, proxy) => {
    const { post, read, socket: open } = client(node);
    assert.equal((await post("a")).status, 200);
    const socket = await open();
    await proxy.stop();
    const [write, reading] = await Promise.all([post("b"), read("fresh")]);
    await assertRetryLater(write, "a write that could not commit");
    await assertRetryLater(reading, "a read that could not be answered");
    const closed = await Promise.race([socket.closed, sleep(LEASE_MS + 2_000).then(() => null)]);
    assert.equal(closed?.code, 1012, "the socket closed with 1012 when the node fenced itself");
    assert.ok(await waitFor(() => node.cluster.membership.state === "fenced", 1_000));
    await assertRetryLater(await post("c"), "a write to a fenced node");
    await proxy.start();
  });
});

test("a commit refused by the room's fence answers 503 + Retry-After, and the room is served again at once", async () => {
  await withNode(6_000, async (node, db) => {
    const { post } = client(node);
    assert.equal((await post("a")).status, 200);
    // What a takeover does to the row: the epoch this node holds is no longer the room's.
    const admin = new pg.Client(db.url);
    await admin.connect();
    await admin.query("UPDATE ph_rooms SET owner_epoch = owner_epoch + 1 WHERE party = 'main' AND room = 'r'");
    await admin.end();
    await assertRetryLater(await post("b"), "a fenced write");
    const again = await post("c");
    assert.deepEqual([again.status, await again.text()], [200, "stored"]);
    assert.deepEqual([...(await storedKeys(db, "r"))].sort(), ["a", "c"]);
  });
});
