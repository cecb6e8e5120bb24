/**
 * One worker process of `partyhouse start --workers N`: the same server as `partyhouse start`,
 * except that its clients' connections come from the supervisor (with the bytes it read to
 * route them), rooms are placed by the supervisor (SupervisorPlacement), a request for a room
 * another worker owns is forwarded to it by the cluster router over loopback, and storage is
 * the data folder's SQLite database, shared with the other workers.
 */
import type { Socket } from "node:net";
import { pinoLogger } from "../logging/pino-logger.js";
import type { RunCommand } from "../cli/args.js";
import type { CliContext } from "../cli/context.js";
import { releaseBuildService } from "../build/index.js";
import { importParties, loadProjectConfig, startProject } from "../cli/boot.js";
import { ClusterRouter } from "../cluster/cluster-router.js";
import { HEARTBEAT_MS, WORKER_BUNDLE_ENV, WORKER_ADMIN_ENV, WORKER_DATA_ENV, WORKER_SECRET_ENV, workerIndex, type SupervisorMessage, type WorkerMessage } from "./protocol.js";
import { IdleConnections } from "./idle-connections.js";
import { SupervisorPlacement } from "./supervisor-placement.js";

export async function runWorker(command: RunCommand, cli: CliContext): Promise<() => Promise<void>> {
  const index = workerIndex()!;
  const secret = process.env[WORKER_SECRET_ENV];
  const bundleFile = process.env[WORKER_BUNDLE_ENV];
  const dataFolder = process.env[WORKER_DATA_ENV];
  if (secret === undefined || bundleFile === undefined || dataFolder === undefined || process.send === undefined) {
    throw new Error("a partyhouse worker is started by its supervisor (partyhouse start --workers N)");
  }
  const send = (message: WorkerMessage) => {
    if (process.connected) process.send!(message);
  };
  const logger = cli.logger ?? pinoLogger(cli.writeErr, command.logLevel ?? "info", { worker: index });
  const config = await loadProjectConfig(command, cli.cwd, { log: () => {} }); // the supervisor said its warnings
  const placement = new SupervisorPlacement(index, secret, { send });
  let project: Awaited<ReturnType<typeof startProject>> | undefined;
  // Connections this worker is done with, told to the supervisor once per turn.
  const lettingGo: number[] = [];
  const connections = new IdleConnections({
    parked: (id, released) => send({ type: "parked", id, released }),
    bounced: (id, head) => send({ type: "bounced", id, head: head.toString("latin1") }),
    letGo: (id) => {
      if (lettingGo.length === 0) setImmediate(() => send({ type: "let-go", ids: lettingGo.splice(0) }));
      lettingGo.push(id);
    },
  });
  const early: Array<[SupervisorMessage, Socket | undefined]> = [];
  const onMessage = (message: SupervisorMessage, socket: Socket | undefined) => {
    placement.receive(message);
    if (message.type === "resume") return connections.resume(message.id, Buffer.from(message.head, "latin1"));
    if (message.type === "drop") return connections.drop(message.id);
    if (message.type !== "connection" || socket === undefined) return;
    if (project === undefined) {
      early.push([message, socket]);
      return;
    }
    // The bytes the supervisor read to route the connection go first.
    const head = Buffer.from(message.head, "latin1");
    socket.unshift(head);
    project.accept(socket, connections.watch(message.id, socket, head.length));
  };
  process.on("message", onMessage);
  // The supervisor is gone (even SIGKILLed): stop as on SIGTERM, no new clients can come.
  process.once("disconnect", () => process.kill(process.pid, "SIGTERM"));

  // The supervisor's admin listener reads each worker's over loopback, with the shared secret.
  const admin = process.env[WORKER_ADMIN_ENV] === "1" ? { port: 0, host: "127.0.0.1", token: secret } : undefined;
  project = await startProject(config, await importParties({ file: bundleFile, inputs: [] }), logger, command, admin, {
    dataFolder,
    routing: {
      placement,
      handBackBeforeRefusing: true,
      router: (local, routerLogger) => new ClusterRouter({ directory: placement, local, logger: routerLogger }),
    },
  });
  await releaseBuildService();
  for (const [message, socket] of early.splice(0)) onMessage(message, socket);
  const beat = setInterval(() => send({ type: "beat" }), HEARTBEAT_MS);
  beat.unref();
  send({ type: "ready", address: `127.0.0.1:${project.port}`, ...(project.adminUrl !== undefined ? { admin: project.adminUrl } : {}) });
  logger.log("info", "worker ready", { pid: process.pid });
  const running = project;
  return async () => {
    clearInterval(beat);
    // Idle connections go back to the supervisor for good, which routes their next requests to
    // the rooms' new owners (a reload) or closes them (a stop); busy ones are answered with
    // `connection: close` and end here.
    connections.releaseIdle();
    await running.close();
    connections.close();
  };
}
