/**
 * Test helpers: start a real partyhouse server on 127.0.0.1 for a set of party classes, and
 * talk to it with real sockets. `import { startTestServer } from "partyhouse/testing"`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { silentLogger, type Logger } from "../runtime/logger.js";
import { startPartyhouse, type PartyExports, type RunningPartyhouse, type StaticAssetsOptions } from "../server/index.js";
import type { ClusterServerOptions } from "../server/options.js";
import type { ExposureOptions } from "../server/limits.js";
import { createStorageService } from "../storage/index.js";
import type { StorageService } from "../storage/contract.js";
import type { AdminOptions } from "../admin/options.js";

export interface TestServerOptions extends ExposureOptions {
  /** Party name to its class or object; a single class is the main party. */
  parties: PartyExports | (new (...args: never[]) => unknown);
  env?: Record<string, unknown>;
  /** Keep data in SQLite under this folder (reuse it to test restarts); default: a fresh temp folder. */
  dataDir?: string;
  /** Use the in-memory engine instead of SQLite. */
  memory?: boolean;
  /** Use this storage service (any engine, from `createStorageService`); the server closes it. */
  storage?: StorageService;
  assets?: StaticAssetsOptions;
  hibernateAfterMs?: number;
  evictAfterMs?: number;
  logger?: Logger;
  dev?: boolean;
  crons?: Record<string, string>;
  alarmRetryBaseMs?: number;
  /** Cluster mode (see partyhouse's src/cluster): this server is one node. */
  cluster?: ClusterServerOptions;
  /** Start the admin listener too (e.g. `{ port: 0 }`); its URL is `server.adminUrl`. */
  admin?: AdminOptions;
  drainTimeoutMs?: number;
}

export interface TestServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string | undefined;
  readonly server: RunningPartyhouse;
  /** fetch() against the server: `fetch("/parties/main/room1")`. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Opens a WebSocket to a path (`/parties/main/room1?_pk=a`) and waits until it is open. */
  connect(path: string, options?: WebSocket.ClientOptions & { protocols?: string[] }): Promise<TestSocket>;
  /** Stops the server; removes the data folder unless it was given. */
  close(): Promise<void>;
}

export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const parties = typeof options.parties === "function" ? { main: options.parties } : options.parties;
  const ownsDir = !options.memory && options.storage === undefined && options.dataDir === undefined;
  const dataDir =
    options.memory || options.storage !== undefined ? undefined : (options.dataDir ?? mkdtempSync(join(tmpdir(), "partyhouse-test-")));
  const storage =
    options.storage ?? (await createStorageService(dataDir === undefined ? { kind: "memory" } : { kind: "sqlite", dir: dataDir }));
  const server = await startPartyhouse({
    parties,
    env: options.env ?? {},
    storage,
    host: "127.0.0.1",
    port: 0,
    logger: options.logger ?? silentLogger,
    ...(options.assets ? { assets: options.assets } : {}),
    ...(options.hibernateAfterMs !== undefined ? { hibernateAfterMs: options.hibernateAfterMs } : {}),
    ...(options.evictAfterMs !== undefined ? { evictAfterMs: options.evictAfterMs } : {}),
    ...(options.crons ? { crons: options.crons } : {}),
    ...(options.alarmRetryBaseMs !== undefined ? { alarmRetryBaseMs: options.alarmRetryBaseMs } : {}),
    ...(options.cluster ? { cluster: options.cluster } : {}),
    ...(options.admin ? { admin: new (await import("../admin/server.js")).AdminListener(options.admin) } : {}),
    dev: options.dev ?? false,
    ...exposureOf(options),
    ...(options.drainTimeoutMs !== undefined ? { drainTimeoutMs: options.drainTimeoutMs } : {}),
  });
  const sockets = new Set<TestSocket>();
  return {
    url: server.url,
    port: server.port,
    dataDir,
    server,
    fetch: (path, init) => fetch(server.url + path, init),
    async connect(path, clientOptions) {
      const socket = await TestSocket.open(server.url.replace(/^http/, "ws") + path, clientOptions);
      sockets.add(socket);
      return socket;
    },
    async close() {
      for (const socket of sockets) socket.terminate();
      await server.close();
      if (ownsDir && dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/** A client socket that queues what it receives, so tests can await the next message. */
export class TestSocket {
  private readonly queue: Array<string | ArrayBuffer> = [];
  private readonly waiters: Array<(message: string | ArrayBuffer) => void> = [];
  /** Resolves when the socket closes. */
  readonly closed: Promise<CloseInfo>;

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = "arraybuffer";
    ws.on("message", (data: ArrayBuffer | string, isBinary: boolean) => {
      const message = isBinary ? (data as ArrayBuffer) : Buffer.from(data as ArrayBuffer).toString("utf8");
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.queue.push(message);
    });
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(url: string, options?: WebSocket.ClientOptions & { protocols?: string[] }): Promise<TestSocket> {
    const ws = new WebSocket(url, options?.protocols ?? [], options);
    const socket = new TestSocket(ws);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(socket));
      ws.once("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
      });
      ws.once("error", reject);
    });
  }

  send(message: string | ArrayBuffer | Uint8Array): void {
    this.ws.send(message);
  }

  /** The next message, waiting up to `timeoutMs`. */
  next(timeoutMs = 5000): Promise<string | ArrayBuffer> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(deliver);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      const deliver = (message: string | ArrayBuffer) => {
        clearTimeout(timer);
        resolve(message);
      };
      this.waiters.push(deliver);
    });
  }

  /** The next message, which must be text. */
  async nextText(timeoutMs?: number): Promise<string> {
    const message = await this.next(timeoutMs);
    if (typeof message !== "string") throw new Error("expected a text message, got binary");
    return message;
  }

  /** Messages received and not yet taken. */
  get pending(): number {
    return this.queue.length;
  }

  close(code?: number, reason?: string): Promise<CloseInfo> {
    this.ws.close(code, reason);
    return this.closed;
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/** Only the exposure options that were given (exactOptionalPropertyTypes). */
function exposureOf(options: ExposureOptions): ExposureOptions {
  const picked: ExposureOptions = {};
  if (options.maxBodyBytes !== undefined) picked.maxBodyBytes = options.maxBodyBytes;
  if (options.bodyBudgetBytes !== undefined) picked.bodyBudgetBytes = options.bodyBudgetBytes;
  if (options.allowedOrigins !== undefined) picked.allowedOrigins = options.allowedOrigins;
  if (options.trustProxy !== undefined) picked.trustProxy = options.trustProxy;
  if (options.proxyGeoHeaders !== undefined) picked.proxyGeoHeaders = options.proxyGeoHeaders;
  return picked;
}
