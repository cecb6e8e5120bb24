/**
 * `partyhouse start --workers N` (N > 1): this process is the supervisor. It holds the public
 * listener, the data-folder lock and the shared store's checkpoints, and never runs user code,
 * so it stays responsive while a worker is blocked. For each connection it reads the request
 * line only (request-line.ts), finds the room from the path (server/route.ts), and hands the
 * socket, with those bytes, to the worker that owns the room (or, for a new room, the least
 * loaded healthy worker; for a path that is not a room, any healthy worker). After that the
 * connection's bytes, WebSocket frames included, go straight to that worker; a kept-alive
 * connection left idle there comes back here, to be routed again by its next request.
 */
import { randomBytes } from "node:crypto";
import net, { type Socket } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleProject, releaseBuildService } from "../build/index.js";
import type { RunCommand } from "../cli/args.js";
import type { CliContext } from "../cli/context.js";
import { bundleFolder, partykitHostFor } from "../cli/boot.js";
import { ConfigError } from "../config/errors.js";
import type { ResolvedConfig } from "../config/types.js";
import { describeError, type Logger } from "../runtime/logger.js";
import { KEEP_ALIVE_MS, PortInUseError } from "../server/index.js";
import { routeOf } from "../server/route.js";
import { adminOptionsFor } from "../cli/admin-options.js";
import { startAdminGateway, type AdminGateway } from "./admin-gateway.js";
import { Assignments } from "./assignments.js";
import { LISTEN_OPTIONS, readRequestLine, requestLineOf, type RequestLine } from "./request-line.js";
import { SharedStore } from "./shared-store.js";
import { WorkerPool, type ParkedConnection } from "./worker-pool.js";

/** How often the supervisor looks for due alarms, and how far ahead (the worker's timer fires them on time). */
const ALARM_POLL_MS = 1_000;
/** Longest a client of a draining worker's room waits for the room to be handed back (a drain ends within 10 s). */
const DRAIN_WAIT_MS = 10_000;
const UNAVAILABLE = "HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";

export async function runSupervisor(command: RunCommand, cli: CliContext, config: ResolvedConfig, logger: Logger): Promise<() => Promise<void>> {
  if (config.cluster) throw new ConfigError("--workers and --cluster cannot be combined yet");
  const admin = adminOptionsFor(command, config, cli.env ?? process.env);
  // The workers share one SQLite store; `--persist false` gets a temporary one, removed at exit,
  // so nothing outlives the run, as with one process's memory storage.
  const temporary = config.persist === false;
  const dataFolder = config.persist === false ? mkdtempSync(join(tmpdir(), "partyhouse-unpersisted-")) : join(config.persist, "data");
  const removeTemporary = () => {
    if (temporary) rmSync(dataFolder, { recursive: true, force: true });
  };
  let store: SharedStore;
  try {
    store = SharedStore.open(dataFolder, (message) => logger.log("error", "checkpoint failed", { message }));
  } catch (error) {
    removeTemporary();
    throw error;
  }
  let pool: WorkerPool | undefined;
  let server: net.Server | undefined;
  let gateway: AdminGateway | undefined;
  try {
    const bundle = await bundleProject(config, { outdir: bundleFolder(config), host: partykitHostFor(config.host, config.port) });
    const assignments = new Assignments(config.workers);
    const secret = randomBytes(24).toString("hex");
    pool = new WorkerPool({
      count: config.workers,
      argv: cli.argv ?? process.argv.slice(2),
      cwd: cli.cwd,
      secret,
      bundleFile: bundle.file,
      dataFolder,
      assignments,
      logger,
      admin: admin !== undefined,
      parked: (connection) => void routeParked(connection, assignments, workers),
      bounced: (socket, head) => {
        const line = requestLineOf(head);
        if (line === undefined) socket.destroy();
        else void deliver(socket, line, assignments, workers);
      },
    });
    const workers: WorkerPool = pool;
    await releaseBuildService();
    await workers.allReady();
    server = net.createServer(LISTEN_OPTIONS, (socket) => {
      // For the socket's whole life here: a reset client must not end the supervisor.
      socket.on("error", () => socket.destroy());
      void route(socket, assignments, workers);
    });
    const port = await listen(server, config.host, config.port);
    if (admin !== undefined) {
      gateway = await startAdminGateway(admin, workers, secret, store, logger);
      logger.log("info", "admin listener ready", { url: gateway.url });
    }
    const adminGateway = gateway;
    const sweep = setInterval(() => assignments.sweep(Date.now()), 1_000);
    sweep.unref();
    const alarms = setInterval(() => void pollAlarms(store, workers, logger), ALARM_POLL_MS);
    alarms.unref();
    const reload = reloadOnHangup(config, workers, logger);
    const url = `http://${partykitHostFor(config.host, port)}`;
    logger.log("info", "ready", { url, workers: config.workers });
    const wildcard = config.host === "0.0.0.0" || config.host === "::";
    cli.writeOut(`partyhouse ready on ${wildcard ? `${url} (listening on all interfaces, ${config.host})` : url} with ${config.workers} workers\n`);
    const listening = server;
    return async () => {
      process.off("SIGHUP", reload);
      clearInterval(sweep);
      clearInterval(alarms);
      listening.close();
      await workers.stop();
      await store.close();
      removeTemporary();
      await adminGateway?.close();
    };
  } catch (error) {
    await gateway?.close();
    server?.close();
    await pool?.stop();
    await store.close();
    removeTemporary();
    throw error;
  }
}

/**
 * `kill -HUP <supervisor>`: build the project again and replace the workers one at a time with
 * the new build (WorkerPool.replaceAll). A failed build is logged and the running workers stay.
 * A HUP during a reload runs one more reload after it.
 */
function reloadOnHangup(config: ResolvedConfig, workers: WorkerPool, logger: Logger): () => void {
  let reloading = false;
  let again = false;
  const reload = async () => {
    do {
      again = false;
      try {
        const bundle = await bundleProject(config, { outdir: bundleFolder(config), host: partykitHostFor(config.host, config.port) });
        logger.log("info", "reloading: replacing workers one at a time");
        await releaseBuildService();
        await workers.replaceAll(bundle.file);
        logger.log("info", "reload done");
      } catch (error) {
        logger.log("error", "reload failed; the running workers stay", describeError(error));
      }
    } while (again);
    reloading = false;
  };
  const onHangup = () => {
    if (reloading) {
      again = true;
      return;
    }
    reloading = true;
    void reload();
  };
  process.on("SIGHUP", onHangup);
  return onHangup;
}

/** Reads the request line of a new connection, then hands the socket to the worker its room (or any healthy one) is for. */
async function route(socket: Socket, assignments: Assignments, pool: WorkerPool): Promise<void> {
  const line = await readRequestLine(socket);
  if (line !== undefined) await deliver(socket, line, assignments, pool);
}

/**
 * A kept-alive connection a worker parked (idle-connections.ts): its next request line is read
 * here and delivered by worker-pool.ts (resumed where it is parked, or handed to the request's
 * worker). It ends when the keep-alive time the worker announced runs out first.
 */
async function routeParked(parked: ParkedConnection, assignments: Assignments, pool: WorkerPool): Promise<void> {
  // Drop what this copy read to route the connection the last time: a worker had those bytes.
  parked.socket.read();
  const line = await readRequestLine(parked.socket, { timeoutMs: KEEP_ALIVE_MS });
  if (line === undefined) return pool.forgetParked(parked);
  await deliver(parked.socket, line, assignments, pool, parked);
}

/** Hands the connection, with the bytes read from it, to the worker the request is for; 503 if none can take it. */
async function deliver(socket: Socket, line: RequestLine, assignments: Assignments, pool: WorkerPool, parked?: ParkedConnection): Promise<void> {
  const target = routeOf(pathOf(line.target));
  // A room's connection goes to its owner even while that one is stuck: only its rooms wait.
  let worker = target.kind === "room" ? assignments.route({ party: target.party, room: target.room }, Date.now()) : pool.anyHealthy();
  // An owner that is draining (being replaced) hands its rooms back one by one: a client of one
  // of them waits here until the room is released (then placed on a running worker), rather
  // than being answered 503 by the draining worker.
  for (let waited = 0; target.kind === "room" && worker !== undefined && pool.isDraining(worker) && waited < DRAIN_WAIT_MS; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (socket.destroyed) break;
    worker = assignments.route({ party: target.party, room: target.room }, Date.now());
  }
  const delivered =
    worker !== undefined && !socket.destroyed && (parked === undefined ? pool.handOff(worker, socket, line.bytes) : pool.deliverParked(parked, worker, line.bytes));
  if (delivered) return;
  if (parked !== undefined) pool.forgetParked(parked);
  socket.end(UNAVAILABLE);
}

/** The path of a request target in origin form (`/a?b`) or absolute form (`http://h/a?b`). */
function pathOf(target: string): string {
  if (target.startsWith("/")) return target;
  try {
    return new URL(target).pathname;
  } catch {
    return target;
  }
}

async function pollAlarms(store: SharedStore, pool: WorkerPool, logger: Logger): Promise<void> {
  try {
    for (const alarm of await store.dueAlarms(Date.now() + ALARM_POLL_MS)) pool.sendAlarm(alarm.room, alarm.time);
  } catch (error) {
    logger.log("warn", "polling due alarms failed", describeError(error));
  }
}

function listen(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(error.code === "EADDRINUSE" ? new PortInUseError(host, port) : error));
    server.listen(port, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}
