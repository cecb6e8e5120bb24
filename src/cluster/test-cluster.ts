/**
 * For tests (not a test itself): several partyhouse nodes in this process, on 127.0.0.1, sharing
 * one StaticCluster table. The nodes talk over real sockets exactly as separate processes would.
 */
import { randomBytes } from "node:crypto";
import type { PartyExports } from "../server/options.js";
import { startTestServer, type TestServer } from "../testing/index.js";
import { clusterRouting } from "./index.js";
import type { PeerTls } from "./peer-tls.js";
import { StaticCluster } from "./static-cluster-test-support.js";

export interface LogEntry {
  readonly node: string;
  readonly event: string;
  readonly fields: Record<string, unknown>;
}

export interface TestCluster {
  readonly table: StaticCluster;
  /** What every node logged. */
  readonly logs: LogEntry[];
  readonly nodes: Record<string, TestServer>;
  close(): Promise<void>;
}

/** Starts one node per id; each gets `env.NODE = id` so a room can say where it runs. */
export async function startTestCluster(
  ids: readonly string[],
  parties: PartyExports,
  options: { evictAfterMs?: number; tls?: Readonly<Record<string, PeerTls>> } = {},
): Promise<TestCluster> {
  const table = new StaticCluster(randomBytes(32).toString("hex"));
  const nodes: Record<string, TestServer> = {};
  const logs: LogEntry[] = [];
  for (const id of ids) {
    const node = await startTestServer({
      logger: { log: (_level, event, fields) => logs.push({ node: id, event, fields: fields ?? {} }) },
      parties,
      memory: true,
      env: { NODE: id },
      cluster: clusterRouting(table.directory(id), { retryDelaysMs: [20, 40, 80], ...(options.tls?.[id] ? { tls: options.tls[id] } : {}) }),
      ...(options.evictAfterMs !== undefined ? { evictAfterMs: options.evictAfterMs } : {}),
    });
    table.setAddress(id, `127.0.0.1:${node.port}`);
    nodes[id] = node;
  }
  return {
    table,
    logs,
    nodes,
    async close() {
      await Promise.all(Object.values(nodes).map((node) => node.close()));
    },
  };
}
