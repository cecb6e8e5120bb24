/**
 * What the web Request/Response bridge costs per request compared with a hand-written
 * node:http handler. Server variants run in a child process; a light raw-socket keep-alive
 * client in this process measures requests/second.
 *   node --import tsx bench/micro/http-bridge.bench.ts [seconds per slice] [rounds]
 */
import { fork } from "node:child_process";
import { createServer, type RequestListener } from "node:http";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { sendWebResponse, toWebRequest } from "../../src/server/http-bridge.js";

const BODY = "hello world";

const variants: Record<string, RequestListener> = {
  bare: (_req, res) => {
    res.writeHead(200, { "content-type": "text/plain;charset=UTF-8" });
    res.end(BODY);
  },
  // The undici objects alone, written by hand: what any web-standard bridge must pay on Node 20.
  "undici-floor": (req, res) => {
    new Request(`http://${req.headers.host}${req.url}`);
    new Response(BODY);
    res.writeHead(200, { "content-type": "text/plain;charset=UTF-8" });
    res.end(BODY);
  },
  "request-only": (req, res) => {
    toWebRequest(req, {});
    res.writeHead(200, { "content-type": "text/plain;charset=UTF-8" });
    res.end(BODY);
  },
  bridge: (req, res) => {
    toWebRequest(req, {});
    void sendWebResponse(res, new Response(BODY));
  },
  "bridge-json": (req, res) => {
    toWebRequest(req, {});
    void sendWebResponse(res, Response.json({ hello: "world" }));
  },
  "bridge-stream": (req, res) => {
    toWebRequest(req, {});
    // A stream-bodied Response: the reader path, no known source.
    void sendWebResponse(res, new Response(new Response(BODY).body));
  },
};

if (process.argv[2] === "--serve") {
  const server = createServer(variants[process.argv[3]!]!);
  server.keepAliveTimeout = 60_000;
  let handled = 0;
  server.on("request", () => handled++);
  let mark = { cpu: process.cpuUsage(), handled: 0 };
  // "mark" starts a measurement; "report" answers with server CPU microseconds per request.
  process.on("message", (message) => {
    if (message === "mark") mark = { cpu: process.cpuUsage(), handled };
    if (message === "report") {
      const used = process.cpuUsage(mark.cpu);
      process.send!((used.user + used.system) / (handled - mark.handled));
    }
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    if (address && typeof address === "object") process.send!(address.port);
  });
} else {
  // The machine may be shared: variants take turns in short slices and the best slice counts.
  const seconds = Number(process.argv[2] ?? 1);
  const rounds = Number(process.argv[3] ?? 6);
  const connections = 50;
  const servers = await Promise.all(Object.keys(variants).map(startVariant));
  const best = new Map<string, { rps: number; cpu: number }>();
  for (let round = 0; round < rounds; round++) {
    for (const { name, child, port } of servers) {
      child.send("mark");
      const count = await load(port, seconds, connections);
      child.send("report");
      const cpu = await new Promise<number>((resolve) => child.once("message", (m) => resolve(Number(m))));
      const previous = best.get(name);
      best.set(name, { rps: Math.max(previous?.rps ?? 0, count / seconds), cpu: Math.min(previous?.cpu ?? Infinity, cpu) });
    }
  }
  const bare = best.get("bare")!;
  for (const [name, { rps, cpu }] of best) {
    console.log(
      `${name.padEnd(14)} ${String(Math.round(rps)).padStart(6)} req/s (${(rps / bare.rps).toFixed(2)}x)  ` +
        `${cpu.toFixed(1).padStart(6)} µs server CPU/request (${(bare.cpu / cpu).toFixed(2)}x)`,
    );
  }
  for (const { child } of servers) child.kill();
}

async function startVariant(name: string) {
  const child = fork(fileURLToPath(import.meta.url), ["--serve", name], { execArgv: ["--import", "tsx"] });
  const port = await new Promise<number>((resolve) => child.once("message", (m) => resolve(Number(m))));
  await load(port, 0.5, 50); // warm up the JIT
  return { name, child, port };
}

/** Keep-alive GETs on `connections` sockets for `seconds`; returns the number of responses. */
function load(port: number, seconds: number, connections: number): Promise<number> {
  const request = Buffer.from("GET /parties/main/room HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n");
  let count = 0;
  let running = true;
  const sockets = Array.from({ length: connections }, () => {
    const socket = connect(port, "127.0.0.1");
    let pending = "";
    socket.setNoDelay(true);
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk) => {
      pending += chunk.toString("latin1");
      for (;;) {
        const used = completeResponse(pending);
        if (used === 0) break;
        pending = pending.slice(used);
        count++;
        if (running) socket.write(request);
      }
    });
    socket.on("error", () => {});
    return socket;
  });
  return new Promise((resolve) =>
    setTimeout(() => {
      running = false;
      for (const s of sockets) s.destroy();
      resolve(count);
    }, seconds * 1000),
  );
}

/** Length of the first complete response in `text`, or 0. */
function completeResponse(text: string): number {
  const headEnd = text.indexOf("\r\n\r\n");
  if (headEnd === -1) return 0;
  const head = text.slice(0, headEnd).toLowerCase();
  const match = /content-length: *(\d+)/.exec(head);
  if (match) {
    const end = headEnd + 4 + Number(match[1]);
    return text.length >= end ? end : 0;
  }
  const last = text.indexOf("\r\n0\r\n\r\n", headEnd);
  return last === -1 ? 0 : last + 7;
}
