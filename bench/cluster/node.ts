// One cluster node for `npm run bench:cluster`, as its own process: the bench party
// (bench/party/server.ts, the same file `npm run bench` measures) under a StaticCluster directory.
// `node --import tsx bench/cluster/node.ts <spec.json> <node id> <port>`; SIGTERM drains and exits 0.
import { readFileSync } from "node:fs";
import { onShutdownSignal } from "../../src/cli/shutdown.js";
import { clusterRouting } from "../../src/cluster/index.js";
import { StaticCluster, type StaticClusterSpec } from "../../src/cluster/static-cluster-test-support.js";
import { jsonLogger } from "../../src/runtime/logger.js";
import { startPartyhouse } from "../../src/server/index.js";
import { createStorageService } from "../../src/storage/index.js";
import BenchServer from "../party/server.js";

const [specPath, nodeId, port] = process.argv.slice(2);
if (!specPath || !nodeId || !port) throw new Error("usage: node.ts <spec.json> <node id> <port>");
const spec = JSON.parse(readFileSync(specPath, "utf8")) as StaticClusterSpec;

const running = await startPartyhouse({
  parties: { main: BenchServer },
  storage: await createStorageService({ kind: "memory" }),
  host: "127.0.0.1",
  port: Number(port),
  logger: jsonLogger(),
  cluster: clusterRouting(StaticCluster.fromSpec(spec).directory(nodeId)),
});
onShutdownSignal(() => running.close(), (code) => process.exit(code));
process.stdout.write(`partyhouse node ${nodeId} ready on ${running.url}\n`);
