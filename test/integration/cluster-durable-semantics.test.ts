/**
 * The Durable Object ordering of issue 18 on a real cluster node (PostgreSQL, claims, leases),
 * where every claim, cold start and engine read closes the input gate: the fault run that found
 * the lost increments ran here. The same patterns as src/runtime/durable-semantics.test.ts.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createTestDatabase, type TestDatabase } from "../../src/cluster/test-support.js";
import { counterParty } from "../../src/runtime/fixtures/counter-party.js";
import { TestSocket } from "../../src/testing/index.js";
import { startInProcessNode, type InProcessNode } from "./in-process-node.js";

const LEASE_MS = 3_000;
const databases: TestDatabase[] = [];
after(async () => {
  for (const database of databases) await database.drop();
});

async function node(hibernate: boolean): Promise<InProcessNode> {
  const database = await createTestDatabase();
  databases.push(database);
  return startInProcessNode(database.url, { main: counterParty(hibernate) }, LEASE_MS);
}

async function texts(socket: TestSocket, count: number): Promise<number[]> {
  const seen: number[] = [];
  while (seen.length < count) seen.push(Number((await socket.nextText(10_000)).split(":")[1]));
  return seen;
}

const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

for (const hibernate of [false, true]) {
  describe(`Durable Object ordering on a cluster node, ${hibernate ? "hibernating" : "non-hibernating"} rooms`, () => {
    it("concurrent read-modify-writes to rooms being claimed acknowledge every increment", async () => {
      const cluster = await node(hibernate);
      try {
        const rooms = ["r1", "r2", "r3"];
        const answers = await Promise.all(
          rooms.map((room) =>
            Promise.all(
              Array.from({ length: 20 }, () =>
                fetch(`http://${cluster.address}/parties/main/${room}/count`, { method: "POST" }).then((r) => r.text()),
              ),
            ),
          ),
        );
        for (const acknowledged of answers) assert.deepEqual(acknowledged.map(Number).sort((a, b) => a - b), oneToN(20));
        for (const room of rooms) {
          const state = (await (await fetch(`http://${cluster.address}/parties/main/${room}`)).json()) as { count: number };
          assert.equal(state.count, 20, `${room} stored every acknowledged increment`);
        }
      } finally {
        await cluster.close();
      }
    });

    it("messages, requests and alarms that arrive while writes are awaited never share a value", async () => {
      const cluster = await node(hibernate);
      try {
        const ws = (pk: string) => TestSocket.open(`ws://${cluster.address}/parties/main/mixed?_pk=${pk}`);
        const observer = await ws("observer");
        const alarms = 10;
        const armed = await fetch(`http://${cluster.address}/parties/main/mixed/alarms?n=${alarms}`, { method: "POST" });
        assert.equal(await armed.text(), "armed");
        const writer = await ws("writer");
        for (let i = 0; i < 5; i++) writer.send("burst"); // one TCP chunk
        const requests: Array<Promise<number>> = [];
        for (let i = 0; i < 20; i++) {
          writer.send("ws");
          requests.push(fetch(`http://${cluster.address}/parties/main/mixed/value`, { method: "POST" }).then(async (r) => Number(await r.text())));
          await sleep(1);
        }
        const total = 5 + 20 + 20 + alarms;
        assert.deepEqual(await texts(observer, total), oneToN(total));
        assert.equal(new Set(await Promise.all(requests)).size, 20, "no two responses carry the same value");
        observer.terminate();
        writer.terminate();
      } finally {
        await cluster.close();
      }
    });
  });
}
