/**
 * One PostgreSQL cluster node in the test's own process (not a test file itself): the same
 * pieces `partyhouse start --cluster` puts together (startCluster, clusterRouting, startPartyhouse)
 * on real sockets and a real database, for tests that must look inside the node (its storage
 * service, its lease) while they break things around it.
 */
import { freePort } from "../../src/cli/test-support.js";
import { clusterRouting, startCluster, type Cluster } from "../../src/cluster/index.js";
import type { Logger } from "../../src/runtime/logger.js";
import { startPartyhouse, type PartyExports, type RunningPartyhouse } from "../../src/server/index.js";

export interface InProcessNode {
  readonly address: string;
  readonly cluster: Cluster;
  readonly server: RunningPartyhouse;
  /** Every log line as `event` plus its fields. */
  readonly logs: Array<{ event: string; fields: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startInProcessNode(url: string, parties: PartyExports, leaseMs: number): Promise<InProcessNode> {
  const logs: InProcessNode["logs"] = [];
  const logger: Logger = { log: (_level, event, fields) => logs.push({ event, fields: fields ?? {} }) };
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const cluster = await startCluster({ url, advertise: address, logger, leaseMs });
  let server: RunningPartyhouse;
  try {
    server = await startPartyhouse({
      parties,
      storage: cluster.storage,
      host: "127.0.0.1",
      port,
      logger,
      cluster: clusterRouting(cluster.directory),
    });
  } catch (error) {
    await cluster.close();
    throw error;
  }
  // The server first: it flushes storage, then the cluster releases what is left.
  return { address, cluster, server, logs, close: () => server.close().then(() => cluster.close()) };
}
