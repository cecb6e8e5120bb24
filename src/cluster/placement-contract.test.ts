/**
 * Every Placement runs the one contract suite (src/runtime/placement-contract-test-support.ts):
 * the single-process placement, the PostgreSQL directory (two directories on one database = two
 * nodes) and the database-free StaticCluster of the routing tests and the bench.
 */
import { randomBytes } from "node:crypto";
import { placementContract } from "../runtime/placement-contract-test-support.js";
import { SingleProcessPlacement } from "../runtime/single-process-placement.js";
import type { RoomRef } from "../storage/engine.js";
import { startTestNode, type TestNode } from "./engine-test-support.js";
import { PostgresEngine } from "./pg-engine.js";
import { StaticCluster } from "./static-cluster-test-support.js";
import { createTestDatabase } from "./test-support.js";

placementContract({
  name: "SingleProcessPlacement",
  maxNodes: 1,
  propertyRuns: 100,
  async start() {
    return { nodes: [new SingleProcessPlacement()], async stop() {} };
  },
});

placementContract({
  name: "StaticCluster",
  maxNodes: 2,
  propertyRuns: 100,
  async start(count) {
    const table = new StaticCluster(randomBytes(16).toString("hex"));
    const ids = Array.from({ length: count }, (_, i) => `node-${i}`);
    ids.forEach((id, i) => table.setAddress(id, `127.0.0.1:${4000 + i}`));
    const nodes = ids.map((id) => table.directory(id));
    return {
      nodes,
      async takeOver(room: RoomRef, _from: number, to: number) {
        table.assign(room, ids[to]!);
        return nodes[to]!.acquire(room);
      },
      async stop() {},
    };
  },
});

placementContract({
  name: "PgDirectory",
  maxNodes: 2,
  propertyRuns: 15,
  async start(count) {
    const db = await createTestDatabase();
    const started: TestNode[] = [];
    for (let i = 0; i < count; i++) started.push(await startTestNode(db.url, { nodeId: `node-${i}` }));
    return {
      nodes: started.map((node) => node.directory),
      /**
       * The holder's claim of this one room lapses (as when its lease ran out and nobody else
       * was there); the other node claims it; the old holder's next commit is refused by the
       * fence, which is how it learns (PostgresEngine reports it to the directory).
       */
      async takeOver(room: RoomRef, from: number, to: number) {
        const old = started[from]!;
        const epoch = old.directory.epochOf(room);
        await old.pool.query("UPDATE ph_rooms SET owner_node = NULL, owner_incarnation = NULL WHERE party = $1 AND room = $2", [room.party, room.room]);
        const claimed = await started[to]!.directory.acquire(room);
        await new PostgresEngine(old.pool, old.directory).commit([{ room, fence: epoch, deleteAll: false, entries: new Map(), alarm: undefined }]);
        return claimed;
      },
      async stop() {
        for (const node of started) await node.stop();
        await db.drop();
      },
    };
  },
});
