/**
 * The admin listener: a second HTTP server, apart from the public port, bound to 127.0.0.1
 * unless told otherwise. Health probes (/healthz, /readyz) and the inspector's static page are
 * open; /metrics and /api need the bearer token when one is set. Nothing here is routed from
 * the public port.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Project } from "../runtime/project.js";
import { describeError, type Logger } from "../runtime/logger.js";
import type { StorageService } from "../storage/contract.js";
import { PartyhouseMetrics } from "../metrics/exporter.js";
import { AdminApi } from "./api.js";
import { handleDataRoute } from "./data-routes.js";
import { checkAdminBinding, hostHeaderIsLocal, tokenDigest, tokenMatches } from "./auth.js";
import { INSPECTOR_HEADERS, InspectorFiles } from "./inspector-files.js";
import { LiveView } from "./live-view.js";
import type { AdminOptions } from "./options.js";
import { combineReadiness, type Readiness } from "./readiness.js";
import type { SideListener, SideListenerContext } from "../server/options.js";

export interface AdminServer {
  readonly url: string;
  readonly port: number;
  readonly metrics: PartyhouseMetrics;
  /** From now on /readyz answers 503 "shutting down" (the server is closing). */
  drain(): void;
  close(): Promise<void>;
}

export interface AdminDependencies {
  project: Project;
  storage: StorageService;
  logger: Logger;
}

/** The admin listener as the server starts it beside the rooms (wired by cli/boot.ts and the test helpers). */
export class AdminListener implements SideListener {
  constructor(private readonly options: AdminOptions) {}

  start(context: SideListenerContext): Promise<AdminServer> {
    return startAdmin(this.options, context);
  }
}

export async function startAdmin(options: AdminOptions, deps: AdminDependencies): Promise<AdminServer> {
  const host = options.host ?? "127.0.0.1";
  checkAdminBinding(host, options.token);
  const expected = options.token === undefined ? undefined : tokenDigest(options.token);
  const view = new LiveView(deps.project);
  const api = new AdminApi(view, deps.storage.reader);
  const metrics = new PartyhouseMetrics({
    roomCounts: () => view.allCounts(),
    counters: deps.project.counters,
    observeCommits: (observer) => deps.storage.observeCommits(observer),
  });
  const inspector = new InspectorFiles();
  let draining = false;
  const readiness: Readiness[] = [
    { ready: () => (draining ? { ok: false, reason: "shutting down" } : { ok: true, reason: "serving" }) },
    deps.storage,
    ...(options.readiness ?? []),
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://admin.invalid");
    const path = url.pathname;
    // DELETE serves one route (a room's storage, data-routes.ts); anything else only reads.
    const deletes = req.method === "DELETE" && path.startsWith("/api/");
    if (req.method !== "GET" && req.method !== "HEAD" && !deletes) return methodNotAllowed(res);
    // Without a token the listener trusts whoever reaches loopback; a web page that rebinds
    // its DNS name to 127.0.0.1 must not count as that, so only IP or localhost Host names pass.
    if (expected === undefined && !hostHeaderIsLocal(req.headers.host)) {
      return send(res, 403, "text/plain", "the admin listener answers only to an IP address or localhost in Host\n");
    }
    if (path === "/healthz") return send(res, 200, "text/plain", "ok: serving\n");
    // Browsers ask for it on every page; an empty answer keeps their consoles clean.
    if (path === "/favicon.ico") return send(res, 204, "image/x-icon", "");
    if (path === "/readyz") {
      const state = combineReadiness(readiness);
      return send(res, state.ok ? 200 : 503, "text/plain", `${state.ok ? "ok" : "not ready"}: ${state.reason}\n`);
    }
    const file = inspector.get(path);
    if (file) return send(res, 200, file.type, file.body, INSPECTOR_HEADERS);
    if (path !== "/metrics" && path !== "/api" && !path.startsWith("/api/")) return send(res, 404, "text/plain", "not found\n");
    if (expected !== undefined && !tokenMatches(req, expected)) {
      return send(res, 401, "text/plain", "missing or wrong admin token (Authorization: Bearer <token>)\n", {
        "www-authenticate": 'Bearer realm="partyhouse admin"',
      });
    }
    if (path === "/metrics") return send(res, 200, metrics.contentType, await metrics.render());
    const segments = decodeSegments(path.slice("/api/".length));
    if (segments === null) return sendJson(res, 400, { error: "malformed percent-encoding in the path" });
    const reply = (status: number, body: unknown) => sendJson(res, status, body);
    if (await handleDataRoute(req, res, segments, url.searchParams, deps, reply)) return;
    if (req.method === "DELETE") return methodNotAllowed(res);
    const answer = await api.handle(segments, url.searchParams);
    return sendJson(res, answer.status, answer.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      deps.logger.log("error", "admin request failed", { path: req.url, ...describeError(error) });
      if (!res.headersSent) sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
      else res.destroy();
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    metrics.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new Error(`admin port ${options.port} on ${host} is already in use (choose another with --admin-port)`);
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    metrics,
    drain() {
      draining = true;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        metrics.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}



/** The path after `/api/`, split and percent-decoded; null when an escape is malformed. */
export function decodeSegments(rest: string): string[] | null {
  try {
    return rest === "" ? [] : rest.split("/").map((segment) => decodeURIComponent(segment));
  } catch {
    return null;
  }
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "content-type": type.includes("charset") || !type.startsWith("text/") ? type : `${type}; charset=utf-8`,
    "content-length": Buffer.byteLength(body),
    "x-content-type-options": "nosniff",
    ...headers,
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

function methodNotAllowed(res: ServerResponse): void {
  send(res, 405, "text/plain", "only GET and HEAD (and DELETE of a room's storage)\n", { allow: "GET, HEAD, DELETE" });
}

/** A JSON answer of the admin API (also the supervisor's, src/workers/admin-api.ts). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, "application/json; charset=utf-8", JSON.stringify(body) + "\n", { "cache-control": "no-store", ...headers });
}
