/**
 * What every app test needs: run one app under `partyhouse start` on 127.0.0.1 with its own
 * data folder, wait for conditions, and make real clients.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import PartySocket, { type PartySocketOptions } from "partysocket";
import WebSocket from "ws";
import { freePort, spawnPartyhouse, type SpawnedServer } from "../../src/cli/test-support.js";

export interface RunningApp {
  readonly port: number;
  readonly host: string;
  readonly server: SpawnedServer;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** A partysocket client (closed by stop()). */
  partySocket(options: Omit<PartySocketOptions, "host" | "WebSocket">): PartySocket;
  /** Stops the server; the data folder stays until `dispose()`, so a restart finds it. */
  stop(): Promise<void>;
  /** Starts the app again on the same port and data folder. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

/** Starts `test/apps/<name>` with `partyhouse start` (extra CLI arguments after it). */
export async function startApp(name: string, extraArgs: string[] = []): Promise<RunningApp> {
  const dataDir = mkdtempSync(join(tmpdir(), `partyhouse-app-${name}-`));
  const port = await freePort();
  const args = ["start", "--config", `test/apps/${name}/partykit.json`, "--host", "127.0.0.1", "--port", String(port), "--persist", dataDir, ...extraArgs];
  let server = await spawnPartyhouse(args);
  const sockets = new Set<PartySocket>();
  const host = `127.0.0.1:${port}`;
  const app: RunningApp = {
    port,
    host,
    get server() {
      return server;
    },
    fetch: (path, init) => fetch(`http://${host}${path}`, init),
    partySocket(options) {
      const socket = new PartySocket({ ...options, host, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket });
      sockets.add(socket);
      return socket;
    },
    async stop() {
      await server.stop("SIGTERM");
    },
    async restart() {
      server = await spawnPartyhouse(args);
    },
    async dispose() {
      for (const socket of sockets) socket.close();
      await server.stop("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return app;
}

export async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Collects what a partysocket receives, text or binary. */
export function collect(socket: PartySocket): Array<string | ArrayBuffer> {
  const received: Array<string | ArrayBuffer> = [];
  socket.addEventListener("message", (event) => received.push((event as MessageEvent).data as string | ArrayBuffer));
  return received;
}

/** Resolves with the first close event of a partysocket (which then stops reconnecting). */
export function firstClose(socket: PartySocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    socket.addEventListener("close", (event) => {
      const { code, reason } = event as CloseEvent;
      socket.close();
      resolve({ code, reason });
    }, { once: true });
  });
}
