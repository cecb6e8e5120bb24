/**
 * The admin listener of `partyhouse start --workers N`, run by the supervisor on the configured
 * admin port: the same rules as the single-process one (loopback unless a token is set, the
 * token for /metrics and /api, only IP or localhost Host names without a token), answering for
 * the whole machine. Each worker runs its own admin listener on a loopback port with the
 * supervisor's secret as its token; the gateway reads theirs.
 *
 * - /healthz: the supervisor serves. /readyz: ready while at least one worker takes rooms.
 * - /metrics: every worker's metrics with a `worker` label (metrics-merge.ts), and the
 *   supervisor's own: workers by state, restarts.
 * - /api: the room API across the workers (admin-api.ts); the inspector's page over it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { checkAdminBinding, hostHeaderIsLocal, tokenDigest, tokenMatches } from "../admin/auth.js";
import type { AdminOptions } from "../admin/options.js";
import { describeError, type Logger } from "../runtime/logger.js";
import { INSPECTOR_HEADERS, InspectorFiles } from "../admin/inspector-files.js";
import { WorkersApi, type SnapshotSource, type WorkerAdmins } from "./admin-api.js";
import { askEachWorker } from "./ask-workers.js";
import { mergeWorkerMetrics } from "./metrics-merge.js";

export interface WorkerStates extends WorkerAdmins {
  /** Workers that take rooms, are stuck, or are starting. */
  counts(): { readonly ready: number; readonly stuck: number; readonly starting: number };
  /** Workers started again after they exited. */
  readonly restarts: number;
}

export interface AdminGateway {
  readonly url: string;
  close(): Promise<void>;
}

/** How long the gateway waits for one worker's metrics to start (a stuck worker's are left out). */
const WORKER_METRICS_TIMEOUT_MS = 1_000;

export async function startAdminGateway(
  options: AdminOptions,
  workers: WorkerStates,
  workerToken: string,
  store: SnapshotSource,
  logger: Logger,
): Promise<AdminGateway> {
  const host = options.host ?? "127.0.0.1";
  checkAdminBinding(host, options.token);
  const expected = options.token === undefined ? undefined : tokenDigest(options.token);
  const api = new WorkersApi(workers, workerToken, store);
  const inspector = new InspectorFiles();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://admin.invalid").pathname;
    // DELETE serves one route (a room's storage); anything else only reads.
    const deletes = req.method === "DELETE" && path.startsWith("/api/");
    if (req.method !== "GET" && req.method !== "HEAD" && !deletes) return send(res, 405, "only GET and HEAD (and DELETE of a room's storage)\n");
    if (expected === undefined && !hostHeaderIsLocal(req.headers.host)) {
      return send(res, 403, "the admin listener answers only to an IP address or localhost in Host\n");
    }
    if (path === "/healthz") return send(res, 200, "ok: serving\n");
    if (path === "/favicon.ico") return send(res, 204, "");
    if (path === "/readyz") {
      const { ready, stuck, starting } = workers.counts();
      const reason = `${ready} workers take rooms, ${stuck} stuck, ${starting} starting`;
      return send(res, ready > 0 ? 200 : 503, `${ready > 0 ? "ok" : "not ready"}: ${reason}\n`);
    }
    const file = inspector.get(path);
    if (file !== undefined) {
      res.writeHead(200, { "content-type": file.type, "content-length": file.body.byteLength, "x-content-type-options": "nosniff", ...INSPECTOR_HEADERS });
      return void res.end(req.method === "HEAD" ? undefined : file.body);
    }
    if (path !== "/metrics" && path !== "/api" && !path.startsWith("/api/")) return send(res, 404, "not found\n");
    if (expected !== undefined && !tokenMatches(req, expected)) {
      res.setHeader("www-authenticate", 'Bearer realm="partyhouse admin"');
      return send(res, 401, "missing or wrong admin token (Authorization: Bearer <token>)\n");
    }
    if (path !== "/metrics") return api.handle(req, res, path.slice("/api/".length));
    // A worker that is stuck or gone is missing from this scrape.
    const { answers } = await askEachWorker(workers.admins(), "/metrics", { token: workerToken, timeoutMs: WORKER_METRICS_TIMEOUT_MS });
    const texts = await Promise.all(
      answers.map(async ({ worker, response }) => {
        const text = response.ok ? await response.text().catch(() => undefined) : undefined;
        return text === undefined ? [] : [{ worker, text }];
      }),
    );
    const { ready, stuck, starting } = workers.counts();
    const own = [
      "# HELP partyhouse_workers Worker processes by state.",
      "# TYPE partyhouse_workers gauge",
      `partyhouse_workers{state="ready"} ${ready}`,
      `partyhouse_workers{state="stuck"} ${stuck}`,
      `partyhouse_workers{state="starting"} ${starting}`,
      "# HELP partyhouse_worker_restarts_total Workers started again after they exited.",
      "# TYPE partyhouse_worker_restarts_total counter",
      `partyhouse_worker_restarts_total ${workers.restarts}`,
      "",
    ].join("\n");
    const merged = mergeWorkerMetrics(texts.flat());
    res.setHeader("content-type", "text/plain; version=0.0.4; charset=utf-8");
    return send(res, 200, own + merged);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.log("error", "admin request failed", { path: req.url, ...describeError(error) });
      if (!res.headersSent) send(res, 500, "admin request failed\n");
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? new Error(`admin port ${options.port} on ${host} is already in use (choose another with --admin-port)`) : error),
    );
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  return {
    url: `http://${urlHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  if (!res.hasHeader("content-type")) res.setHeader("content-type", "text/plain; charset=utf-8");
  res.end(body);
}
