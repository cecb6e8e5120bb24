/**
 * Shared by the cluster integration tests (cluster*.test.ts): real `partyhouse start --cluster`
 * nodes on 127.0.0.1 over a PostgreSQL database of the test's own, and helpers to look at it.
 * Split over several files so each stays well inside the runner's per-file timeout.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, afterEach } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { WebSocket } from "ws";
import { freePort, spawnPartyhouse, type SpawnedServer } from "../../src/cli/test-support.js";
import { tempProjects } from "../../src/config/test-support.js";
import { createTestDatabase, testServerUrl, type TestDatabase } from "../../src/cluster/test-support.js";

export const LEASE_MS = 3_000;
const newProject = tempProjects();

const SERVER = `
import type * as Party from "partykit/server";

export default class ClusterRoom implements Party.Server {
  /** Tells instances apart (a room built again after a fence is a new one). */
  readonly instance = Math.random().toString(36).slice(2);
  constructor(readonly room: Party.Room) {}
  onStart() {
    // Counted by the test across every node's output: exactly one per room.
    console.log(JSON.stringify({ onStart: this.room.id }));
  }
  async onRequest(req: Party.Request) {
    if (req.method === "POST") {
      const { key, value } = (await req.json()) as { key: string; value: string };
      await this.room.storage.put(key, value);
      return new Response("stored");
    }
    const params = new URL(req.url).searchParams;
    if (params.has("instance")) return new Response(this.instance);
    if (params.has("spin")) {
      // Holds the event loop (wall clock, as a busy handler would see it).
      const until = Date.now() + Number(params.get("spin"));
      while (Date.now() < until) {}
      return new Response("spun");
    }
    if (params.has("call")) {
      // Room to room: wherever the other room lives, through the same routing as clients.
      const other = await this.room.context.parties.main!.get(params.get("call")!).fetch("/");
      return new Response(this.room.env.NODE + " -> " + (await other.text()));
    }
    if (params.has("alarm")) {
      await this.room.storage.setAlarm(Date.now() + 300);
      return new Response("alarm set");
    }
    if (params.has("list")) {
      return Response.json(Object.fromEntries(await this.room.storage.list()));
    }
    return new Response(String(this.room.env.NODE));
  }
  onConnect(connection: Party.Connection) {
    connection.send("hello from " + this.room.env.NODE);
  }
  async onAlarm() {
    await this.room.storage.put("alarm", String(this.room.env.NODE));
  }
  async onMessage(message: string, connection: Party.Connection) {
    if (message.startsWith("say:")) return this.room.broadcast(message + " via " + this.room.env.NODE);
    await this.room.storage.put(message, "from socket");
    connection.send("ack " + message);
  }
}
`;

export interface Node {
  name: string;
  address: string;
  server: SpawnedServer;
}

const running: SpawnedServer[] = [];
export const databases: TestDatabase[] = [];
// Each test's nodes and database go when the test ends: nodes of earlier tests would hold
// PostgreSQL connections (11 per node) and CPU the next test needs.
afterEach(async () => {
  for (const server of running.splice(0)) {
    try {
      process.kill(server.child.pid!, "SIGCONT");
    } catch {
      // already gone
    }
    await server.stop("SIGKILL");
  }
  for (const database of databases.splice(0)) await database.drop();
});
// A file the runner cancels (timeout) must not leave its nodes running.
const killAll = () => {
  for (const server of running) {
    try {
      server.child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
};
process.once("exit", killAll);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(1);
  });
}

/** `extra`: more `partyhouse start` flags (`--admin-port`, `--max-event-ms`); `source`: the project's server.ts. */
export async function startNode(name: string, url: string, port?: number, extra: readonly string[] = [], source = SERVER): Promise<Node> {
  const project = await newProject({ "partykit.json": JSON.stringify({ main: "server.ts" }), "server.ts": source });
  const listen = port ?? (await freePort());
  const server = await spawnPartyhouse(
    ["start", "-c", `${project.dir}/partykit.json`, "--host", "127.0.0.1", "--port", String(listen), "--cluster", url,
      "--cluster-lease", String(LEASE_MS), "--var", `NODE=${name}`, ...extra],
    { timeoutMs: 60_000 },
  );
  running.push(server);
  return { name, address: `127.0.0.1:${listen}`, server };
}

export async function cluster(count: number): Promise<{ db: TestDatabase; nodes: Node[] }> {
  const db = await createTestDatabase();
  databases.push(db);
  // The first node creates the schema; the others start at once.
  const nodes = await Promise.all(Array.from({ length: count }, (_, i) => startNode(`n${i}`, db.url)));
  // A node learns of the others at its lease renewals (every lease / 5 = 600 ms here); until then
  // it prefers itself for new rooms. Two renewals later every node knows every other.
  await new Promise((resolve) => setTimeout(resolve, (LEASE_MS / 5) * 2 + 100));
  return { db, nodes };
}

/** A request to one node, whichever owns the room; the "moved" marker must never reach a client. */
export async function roomFetch(address: string, path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(`http://${address}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
  assert.equal(response.headers.get("x-partyhouse-moved"), null, "x-partyhouse-moved stays between nodes");
  return response;
}

export function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => (ws.once("open", () => resolve()), ws.once("error", reject)));
}

export function onStartCounts(nodes: Node[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const node of nodes) {
    for (const match of node.server.output().matchAll(/\{"onStart":"([^"]+)"\}/g)) {
      counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + 1);
    }
  }
  return counts;
}

export async function ownerOf(db: TestDatabase, room: string): Promise<{ node: string | null; epoch: number }> {
  const client = new pg.Client(db.url);
  await client.connect();
  try {
    const result = await client.query("SELECT owner_node, owner_epoch FROM ph_rooms WHERE party = 'main' AND room = $1", [room]);
    return { node: result.rows[0]?.owner_node ?? null, epoch: Number(result.rows[0]?.owner_epoch ?? 0) };
  } finally {
    await client.end();
  }
}

export async function roomEpochs(db: TestDatabase): Promise<Map<string, number>> {
  const client = new pg.Client(db.url);
  await client.connect();
  try {
    const result = await client.query<{ room: string; owner_epoch: string }>("SELECT room, owner_epoch FROM ph_rooms WHERE party = 'main'");
    return new Map(result.rows.map((row) => [row.room, Number(row.owner_epoch)]));
  } finally {
    await client.end();
  }
}

export async function storedKeys(db: TestDatabase, room: string): Promise<Set<string>> {
  const client = new pg.Client(db.url);
  await client.connect();
  try {
    const result = await client.query<{ key: Buffer }>("SELECT key FROM ph_kv WHERE party = 'main' AND room = $1", [room]);
    return new Set(result.rows.map((row) => row.key.toString("utf8")));
  } finally {
    await client.end();
  }
}


export async function waitForAsync(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(100);
  }
  return condition();
}


export async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await sleep(25);
  }
  return condition();
}


/**
 * A TCP proxy to PostgreSQL that can be cut (every connection destroyed) and restored on the
 * same port, or frozen: bytes both ways are held (connections stay open) and delivered, in
 * order, when it thaws, as a stalled network path would deliver them late.
 */
export async function startProxy(targetPort: number, targetHost: string) {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let listener: net.Server | undefined;
  let held: Array<() => void> | undefined;
  const relay = (from: net.Socket, to: net.Socket) =>
    from.on("data", (chunk: Buffer) => {
      if (held !== undefined) held.push(() => to.write(chunk));
      else to.write(chunk);
    });
  const start = () =>
    new Promise<void>((resolve) => {
      listener = net.createServer((client) => {
        const upstream = net.connect(targetPort, targetHost);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
        relay(client, upstream);
        relay(upstream, client);
      });
      // Never what keeps the test process alive.
      listener.unref();
      listener.listen(port, "127.0.0.1", () => resolve());
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      held = undefined;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (!listener?.listening) return resolve();
      listener.close(() => resolve());
    });
  const freeze = () => {
    held ??= [];
  };
  const thaw = () => {
    const late = held ?? [];
    held = undefined;
    for (const deliver of late) deliver();
  };
  await start();
  after(stop);
  return { port, start, stop, freeze, thaw };
}


/** A database of this test's own, reached through a proxy the test can cut: `url` goes through it. */
export async function proxiedDatabase(): Promise<{ db: TestDatabase; url: string; proxy: Awaited<ReturnType<typeof startProxy>> }> {
  const db = await createTestDatabase();
  databases.push(db);
  const server = new URL(await testServerUrl());
  const proxy = await startProxy(Number(server.port), server.hostname);
  const url = new URL(db.url);
  url.port = String(proxy.port);
  return { db, url: url.toString(), proxy };
}
