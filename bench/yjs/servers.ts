// The two servers of the Yjs bench, both `partyhouse start` with SQLite storage in a temp folder:
// - "y-partykit": the baseline, y-partykit's own server (persist: snapshot), non-hibernating;
// - "partyhouse/yjs": YServer, hibernating after --hibernate-after ms.
// Each is a process-group leader, ended by PID (bench/lib/children.ts).
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnChild, stopChild } from "../lib/children.js";
import { freePort } from "../lib/free-port.js";
import { repoRoot } from "../lib/paths.js";
import { processTree, rssBytes } from "../lib/proc-stats.js";
import { waitReady } from "../lib/wait-ready.js";

export type YServerName = "y-partykit" | "partyhouse/yjs";

export interface YBenchServer {
  name: YServerName;
  port: number;
  pid: number;
  /** Heap after GC, RSS of the process tree, live instances and documents, and how often `room` woke. */
  memory(room?: string): Promise<Memory>;
  /** WebSocket messages the server received from and wrote to clients so far (its /metrics counters). */
  messages(): Promise<MessageCounts>;
  stop(): Promise<void>;
}

export interface MessageCounts {
  in: number;
  out: number;
}

export interface Memory {
  heapUsed: number;
  /** What V8 holds for its heap (used or not): RSS the heap figure does not show. */
  heapTotal: number;
  /** Memory of ArrayBuffers and other objects outside the V8 heap that JavaScript keeps alive. */
  external: number;
  rss: number;
  live: { instances: number; docs: number };
  built: number;
}

const party = (file: string) => fileURLToPath(new URL(`./party/${file}`, import.meta.url));

export async function startYServer(name: YServerName, workDir: string, hibernateAfterMs: number): Promise<YBenchServer> {
  const port = await freePort();
  const adminPort = await freePort();
  const [main, config] = name === "y-partykit" ? ["ypartykit.ts", "ypartykit.json"] : ["yserver.ts", "yserver.json"];
  const dataDir = join(workDir, name.replace("/", "-"));
  mkdirSync(dataDir, { recursive: true });
  const args = [
    "--expose-gc", join(repoRoot, "bin/partyhouse.js"), "start", party(main), "--config", party(config),
    "--host", "127.0.0.1", "--port", String(port), "--persist", dataDir, "--hibernate-after", String(hibernateAfterMs),
    "--admin-port", String(adminPort),
  ];
  // The server's own log (JSON lines) goes to a file beside its data: `workDir/<name>.log`.
  const logFile = openSync(`${dataDir}.log`, "a");
  const child = spawnChild(name, process.execPath, args, { cwd: repoRoot, stdio: ["ignore", logFile, logFile] });
  closeSync(logFile);
  try {
    await waitReady(child, `http://127.0.0.1:${port}/parties/main/bench-ready`, 30_000);
  } catch (error) {
    await stopChild(child);
    const tail = readFileSync(`${dataDir}.log`, "utf8").trimEnd().split("\n").slice(-15).join("\n");
    throw new Error(`${name} did not start: ${(error as Error).message}\n${tail}`);
  }
  const pid = child.pid!;
  return {
    name,
    port,
    pid,
    async memory(room = "") {
      const res = await fetch(`http://127.0.0.1:${port}/__bench/memory?room=${encodeURIComponent(room)}`);
      const body = (await res.json()) as { gc: boolean; usage: NodeJS.MemoryUsage; live: Memory["live"]; built: number };
      if (!body.gc) throw new Error(`${name} runs without --expose-gc`);
      const { heapUsed, heapTotal, external } = body.usage;
      return { heapUsed, heapTotal, external, rss: rssBytes(processTree(pid)), live: body.live, built: body.built };
    },
    async messages() {
      const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
      return { in: metricSum(text, "partyhouse_messages_in_total"), out: metricSum(text, "partyhouse_messages_out_total") };
    },
    stop: () => stopChild(child),
  };
}

/** The sum of a Prometheus counter over its labels. */
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  return sum;
}
