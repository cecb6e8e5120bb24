// `bench:count`: what one HTTP request costs a server, counted rather than timed, so the figure
// does not depend on what else the shared machine is doing. The server (bare or partyhouse, as
// `npm run bench` starts them) gets a fixed number of warm-up requests, then a fixed number of
// measured ones from 32 keep-alive connections, and one tool counts over the measured ones only:
//
// - `--tool strace`: syscalls per request, every thread of the server (`strace -f -c`, attached
//   after the warm-up), and for partyhouse how many requests share one fdatasync;
// - `--tool callgrind`: instructions per request executed by the server's main thread
//   (`valgrind --tool=callgrind --separate-threads=yes`, collection switched on after the
//   warm-up); the profile is kept for callgrind_annotate;
// - `--tool threads`: CPU time per request of each of the server's threads (from
//   /proc/<pid>/task/*/schedstat, nanoseconds on the CPU, and how often each was switched in), and
//   the request rate: on a busy machine only the CPU figures mean much.
//
//   node --import tsx bench/count/run.ts --tool strace --server partyhouse --path put
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installExitHandlers, stopAll } from "../lib/children.js";
import { KeepAliveConnection } from "../lib/http-raw.js";
import { readFlags } from "../lib/options.js";
import { freePort } from "../lib/free-port.js";
import { HOST, startServer, type RunningServer } from "../servers/server-handle.js";
import { planBare, planPartyhouse, type Plan } from "../servers/targets.js";
import { MALLOC_SETTINGS, SEMI_SPACE_MB } from "../../src/cli/server-flags.js";

const USAGE = `usage: node --import tsx bench/count/run.ts --tool strace|callgrind|threads --server bare|partyhouse
  [--path put|http] [--warmup <n>] [--requests <n>] [--connections <n>] [--out <dir>]
  [--trace <syscall,...>] (with strace: a timestamped trace of these calls instead of counts)
  [--commits on] (partyhouse: also group commits per request and their mean duration, from /metrics)
  [--semi-space <MB>] (partyhouse's young generation; default the ${SEMI_SPACE_MB} MB \`partyhouse start\` sets)`;

interface CountSettings {
  tool: "strace" | "callgrind" | "threads";
  server: "bare" | "partyhouse";
  suffix: string;
  warmup: number;
  requests: number;
  connections: number;
  out: string;
  /** strace: instead of counting, trace these syscalls with timestamps (`-tt -e trace=`). */
  trace: string | undefined;
  /** partyhouse with its admin listener: commits and their mean duration from /metrics. */
  commits: boolean;
  /** partyhouse's --max-semi-space-size in MB (default: what `partyhouse start` sets). */
  semiSpaceMb: number;
}

function parse(argv: string[]): CountSettings {
  const flags = readFlags(argv, USAGE);
  const tool = flags.get("tool");
  const server = flags.get("server");
  const path = flags.get("path") ?? "put";
  if ((tool !== "strace" && tool !== "callgrind" && tool !== "threads") || (server !== "bare" && server !== "partyhouse") || (path !== "put" && path !== "http")) {
    throw new Error(USAGE);
  }
  return {
    tool,
    server,
    suffix: path === "put" ? "/put" : "",
    warmup: Number(flags.get("warmup") ?? 15_000),
    requests: Number(flags.get("requests") ?? 5_000),
    connections: Number(flags.get("connections") ?? 32),
    out: flags.get("out") ?? mkdtempSync(join(tmpdir(), "partyhouse-count-")),
    trace: flags.get("trace"),
    commits: flags.get("commits") === "on",
    semiSpaceMb: Number(flags.get("semi-space") ?? SEMI_SPACE_MB),
  };
}

/** Sends `count` GETs over the connections, one in flight on each, and resolves when all are answered. */
function drive(connections: KeepAliveConnection[], path: string, count: number): Promise<number> {
  let sent = 0;
  let answered = 0;
  let failed = 0;
  return new Promise((resolve) => {
    for (const connection of connections) {
      const next = () => {
        if (sent >= count) return;
        sent++;
        connection.get(path, (status) => {
          if (status !== 200) failed++;
          if (++answered === count) resolve(failed);
          else next();
        });
      };
      connection.onError = () => {
        failed++;
        if (++answered === count) resolve(failed);
        else next();
      };
      next();
    }
  });
}

/**
 * partyhouse as `partyhouse start` relaunches itself (src/cli/server-flags.ts), with the flags
 * given here so that no execve happens under a tool that would not follow it.
 */
function serverPlan(settings: CountSettings, workDir: string): Promise<Plan> | Plan {
  if (settings.server === "bare") return planBare(workDir);
  const plan = planPartyhouse(workDir);
  if (!plan.ok) return plan;
  return { ok: true, start: { ...plan.start, args: [`--max-semi-space-size=${settings.semiSpaceMb}`, ...plan.start.args], env: { ...MALLOC_SETTINGS, ...plan.start.env } } };
}

async function main(): Promise<void> {
  const settings = parse(process.argv.slice(2));
  installExitHandlers();
  const workDir = mkdtempSync(join(tmpdir(), "partyhouse-count-work-"));
  process.once("exit", () => rmSync(workDir, { recursive: true, force: true }));
  const plan = await serverPlan(settings, workDir);
  if (!plan.ok) throw new Error(plan.note);
  let start = plan.start;
  const adminPort = settings.commits && settings.server === "partyhouse" ? await freePort() : undefined;
  if (adminPort !== undefined) start = { ...start, args: [...start.args, "--admin-port", String(adminPort)] };
  const callgrindOut = join(settings.out, `callgrind.${settings.server}${settings.suffix.replace("/", ".")}.%p`);
  if (settings.tool === "callgrind") {
    start = {
      ...start,
      command: "valgrind",
      args: ["--tool=callgrind", "--separate-threads=yes", "--instr-atstart=no", `--callgrind-out-file=${callgrindOut}`, start.command, ...start.args],
      readyTimeoutMs: 300_000,
    };
  }
  const server: RunningServer = await startServer(start);
  const path = `/parties/main/count-room${settings.suffix}`;
  const connections = Array.from({ length: settings.connections }, () => new KeepAliveConnection(HOST, server.port));
  try {
    process.stderr.write(`${settings.server} (pid ${server.pid}): ${settings.warmup} warm-up requests to ${path}\n`);
    await drive(connections, path, settings.warmup);
    const commitsBefore = adminPort === undefined ? undefined : await commitFigures(adminPort);
    let stopTool: () => Promise<string>;
    if (settings.tool === "strace") {
      const output = join(settings.out, `strace.${settings.server}${settings.suffix.replace("/", ".")}.txt`);
      const mode = settings.trace === undefined ? ["-c"] : ["-tt", "-e", `trace=${settings.trace}`];
      const strace = spawn("strace", ["-f", ...mode, "-o", output, "-p", String(server.pid)], { stdio: "ignore" });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      stopTool = async () => {
        const exited = new Promise((resolve) => strace.once("exit", resolve));
        strace.kill("SIGINT");
        await exited;
        return readFileSync(output, "utf8");
      };
    } else if (settings.tool === "threads") {
      const before = threadTimes(server.pid);
      const startedAt = process.hrtime.bigint();
      stopTool = async () => {
        const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
        return describeThreads(before, threadTimes(server.pid), settings.requests, seconds);
      };
    } else {
      callgrindControl(["-i", "on", String(server.pid)]);
      callgrindControl(["-z", String(server.pid)]);
      stopTool = async () => {
        callgrindControl(["-d", String(server.pid)]);
        callgrindControl(["-i", "off", String(server.pid)]);
        return mainThreadInstructions(settings.out, settings);
      };
    }
    const failed = await drive(connections, path, settings.requests);
    let report = await stopTool();
    if (commitsBefore !== undefined) {
      const after = await commitFigures(adminPort!);
      const commits = after.count - commitsBefore.count;
      const meanUs = ((after.sum - commitsBefore.sum) / commits) * 1e6;
      report += `\ngroup commits: ${commits}, ${(settings.requests / commits).toFixed(1)} requests each, ${meanUs.toFixed(0)} µs each (SQL and WAL sync)`;
    }
    console.log(`${settings.server} ${path}: ${settings.requests} measured requests (${failed} failed) after ${settings.warmup} warm-up, ${settings.connections} connections`);
    if (settings.tool !== "strace") console.log(report);
    else if (settings.trace === undefined) console.log(perRequestSyscalls(report, settings.requests));
    else console.log(`trace in ${join(settings.out, `strace.${settings.server}${settings.suffix.replace("/", ".")}.txt`)}`);
  } finally {
    for (const connection of connections) connection.close();
    await server.stop();
    await stopAll();
  }
}

interface ThreadTime {
  name: string;
  /** Nanoseconds on a CPU, and how many times it was scheduled in (schedstat). */
  runNs: number;
  slices: number;
}

function threadTimes(pid: number): Map<string, ThreadTime> {
  const times = new Map<string, ThreadTime>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      // The main thread carries the process's name, as V8's helper threads do: tell it apart.
      const name = tid === String(pid) ? "main thread" : readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
      const [runNs, , slices] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").trim().split(" ").map(Number);
      times.set(tid, { name, runNs: runNs!, slices: slices! });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return times;
}

/** Per thread name: µs of CPU and wake-ups per request over the measured requests; then the total and the rate. */
function describeThreads(before: Map<string, ThreadTime>, after: Map<string, ThreadTime>, requests: number, seconds: number): string {
  const byName = new Map<string, { runNs: number; slices: number; threads: number }>();
  for (const [tid, end] of after) {
    const start = before.get(tid) ?? { runNs: 0, slices: 0 };
    const entry = byName.get(end.name) ?? { runNs: 0, slices: 0, threads: 0 };
    entry.runNs += end.runNs - start.runNs;
    entry.slices += end.slices - start.slices;
    entry.threads++;
    byName.set(end.name, entry);
  }
  const rows = [...byName].filter(([, t]) => t.runNs > 0).sort((a, b) => b[1].runNs - a[1].runNs);
  const total = rows.reduce((sum, [, t]) => sum + t.runNs, 0);
  const lines = rows.map(
    ([name, t]) => `${name.padEnd(16)} (${t.threads} thread${t.threads === 1 ? "" : "s"}): ${(t.runNs / 1000 / requests).toFixed(2)} µs CPU, ${(t.slices / requests).toFixed(3)} switches-in per request`,
  );
  lines.push(`all threads: ${(total / 1000 / requests).toFixed(2)} µs CPU per request; ${Math.round(requests / seconds)} requests/s`);
  return lines.join("\n");
}

/** partyhouse_storage_commit_seconds' count and sum from the admin listener. */
async function commitFigures(adminPort: number): Promise<{ count: number; sum: number }> {
  const text = await (await fetch(`http://${HOST}:${adminPort}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
  return { count: read("partyhouse_storage_commit_seconds_count"), sum: read("partyhouse_storage_commit_seconds_sum") };
}

function callgrindControl(args: string[]): void {
  const run = spawnSync("callgrind_control", args, { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`callgrind_control ${args.join(" ")}: ${run.stderr || run.stdout}`);
}

/** strace -c's table with a per-request column added. */
function perRequestSyscalls(table: string, requests: number): string {
  return table
    .split("\n")
    .map((line) => {
      const cells = line.trim().split(/\s+/);
      // % time, seconds, usecs/call, calls, [errors], syscall
      const calls = Number(cells[3]);
      if (cells.length < 5 || !Number.isFinite(calls) || line.startsWith("%")) return line;
      return `${line}    ${(calls / requests).toFixed(3)} per request`;
    })
    .join("\n");
}

/** The dump with the most instructions is the main thread's (the others are V8 and libuv helpers). */
function mainThreadInstructions(dir: string, settings: CountSettings): string {
  // The dump asked for after the measured requests: "<out>.<pid>.1-<thread>".
  const dump = new RegExp(`^callgrind\\.${settings.server}${settings.suffix.replace("/", "\\.")}\\.\\d+\\.1-\\d+$`);
  const totals: Array<[string, number]> = [];
  for (const file of readdirSync(dir)) {
    if (!dump.test(file)) continue;
    const text = readFileSync(join(dir, file), "utf8");
    const summary = /^summary:\s+(\d+)/m.exec(text) ?? /^totals:\s+(\d+)/m.exec(text);
    if (summary) totals.push([file, Number(summary[1])]);
  }
  totals.sort((a, b) => b[1] - a[1]);
  const lines = totals.map(([file, total]) => `${file}: ${total} instructions, ${Math.round(total / settings.requests)} per request`);
  return [`profiles in ${dir}`, ...lines].join("\n");
}

main().catch(async (error) => {
  console.error(error instanceof Error ? error.stack : error);
  await stopAll();
  process.exit(1);
});
