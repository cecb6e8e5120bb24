import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { test } from "node:test";
import WebSocket from "ws";
import type * as Party from "../types/party.js";
import { startTestServer } from "../testing/index.js";
import { rawRequest } from "./test-support.js";

let userCalls = 0;
let bodyErrors = 0;
let release: (() => void) | null = null;
/** Handlers asked to `?gate` wait here, so their bodies stay counted together. */
let gate: Promise<void> = Promise.resolve();
let waitingAtGate = 0;

class Upload implements Party.Server {
  constructor(readonly room: Party.Room) {}
  static onBeforeRequest(req: Party.Request) {
    userCalls++;
    return req;
  }
  static onBeforeConnect(req: Party.Request) {
    userCalls++;
    return req;
  }
  async onRequest(req: Party.Request) {
    if (new URL(req.url).pathname.endsWith("/ip")) {
      return Response.json({ ip: req.headers.get("cf-connecting-ip"), real: req.headers.get("x-real-ip"), xff: req.headers.get("x-forwarded-for") });
    }
    let text: string;
    try {
      text = await req.text();
    } catch (error) {
      bodyErrors++;
      // A handler that swallows the error still cannot turn the refusal into a 200.
      return new Response(`caught ${String(error)}`);
    }
    if (new URL(req.url).searchParams.has("hold")) await new Promise<void>((resolve) => (release = resolve));
    if (new URL(req.url).searchParams.has("gate")) {
      waitingAtGate++;
      await gate;
    }
    return new Response(`got ${text.length}`);
  }
}

/** POSTs `size` bytes chunked (no Content-Length), so only counting while streaming can stop it. */
function postChunked(port: number, path: string, size: number, chunk = 64 * 1024): Promise<{ status: number; body: string; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: "POST", headers: { "transfer-encoding": "chunked" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body, ...(res.headers["retry-after"] ? { retryAfter: String(res.headers["retry-after"]) } : {}) }));
      res.on("error", reject);
    });
    // The server may close mid-upload after answering; that is the point.
    req.on("error", () => undefined);
    const piece = Buffer.alloc(chunk, 97);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += chunk;
        if (!req.write(piece)) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

test("a declared Content-Length over the limit is 413 before any user code runs", async () => {
  const server = await startTestServer({ parties: Upload, memory: true, maxBodyBytes: 1024 });
  try {
    userCalls = 0;
    const got = await rawRequest(server.port, "POST /parties/main/r HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 600000000", "x".repeat(100));
    assert.equal(got.status, 413);
    assert.equal(got.headers.connection, "close");
    assert.equal(userCalls, 0);
    const small = await server.fetch("/parties/main/r", { method: "POST", body: "x".repeat(1024) });
    assert.equal(await small.text(), "got 1024");
  } finally {
    await server.close();
  }
});

test("a streamed body is cut off at the limit with 413, whatever the handler answers", async () => {
  const server = await startTestServer({ parties: Upload, memory: true, maxBodyBytes: 256 * 1024 });
  try {
    bodyErrors = 0;
    const got = await postChunked(server.port, "/parties/main/r", 8 * 1024 * 1024);
    assert.equal(got.status, 413);
    assert.equal(bodyErrors, 1);
    assert.equal(server.server.stats().rooms, 1);
  } finally {
    await server.close();
  }
});

test("bodies in flight share a process-wide budget: over it is 503 with Retry-After, released when answered", async () => {
  const server = await startTestServer({ parties: Upload, memory: true, bodyBudgetBytes: 1024 * 1024 });
  try {
    const held = postChunked(server.port, "/parties/main/a?hold", 768 * 1024);
    while (release === null) await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await postChunked(server.port, "/parties/main/b", 768 * 1024);
    assert.equal(second.status, 503);
    assert.equal(second.retryAfter, "1");
    const declared = await rawRequest(server.port, "POST /parties/main/b HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 700000", "");
    assert.equal(declared.status, 503);
    (release as () => void)();
    assert.equal((await held).status, 200);
    const after = await postChunked(server.port, "/parties/main/b", 768 * 1024);
    assert.equal(after.status, 200);
    assert.equal(after.body, `got ${768 * 1024}`);
  } finally {
    release = null;
    await server.close();
  }
});

test("many concurrent large bodies never hold more than the budget", async () => {
  const budget = 4 * 1024 * 1024;
  const server = await startTestServer({ parties: Upload, memory: true, bodyBudgetBytes: budget });
  try {
    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    waitingAtGate = 0;
    let refused = 0;
    const pending = Array.from({ length: 12 }, (_, i) =>
      postChunked(server.port, `/parties/main/m${i}?gate`, 2 * 1024 * 1024).then((r) => {
        if (r.status !== 200) refused++;
        return r;
      }),
    );
    // Every body is either held by a waiting handler or refused: only then let them answer.
    while (waitingAtGate + refused < 12) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(waitingAtGate * 2 * 1024 * 1024 <= budget, `${waitingAtGate} bodies held at once`);
    open();
    const results = await Promise.all(pending);
    const statuses = new Set(results.map((r) => r.status));
    assert.ok([...statuses].every((s) => s === 200 || s === 503), [...statuses].join());
    assert.ok(results.some((r) => r.status === 503), "some were refused");
    assert.ok(results.some((r) => r.status === 200), "some got through");
  } finally {
    await server.close();
  }
});

test("allowedOrigins refuses other Origins with 403 before user code, for requests and WebSockets", async () => {
  const server = await startTestServer({ parties: Upload, memory: true, allowedOrigins: ["https://good.test"] });
  try {
    userCalls = 0;
    const bad = await server.fetch("/parties/main/r/ip", { headers: { origin: "https://evil.test" } });
    assert.equal(bad.status, 403);
    const badSocket = new WebSocket(`${server.url.replace("http", "ws")}/parties/main/r`, { origin: "https://evil.test" });
    const status = await new Promise<number>((resolve) => badSocket.on("unexpected-response", (_req, res) => resolve(res.statusCode!)));
    assert.equal(status, 403);
    assert.equal(userCalls, 0, "no user code ran for refused Origins");

    assert.equal((await server.fetch("/parties/main/r/ip", { headers: { origin: "https://good.test" } })).status, 200);
    assert.equal((await server.fetch("/parties/main/r/ip")).status, 200, "no Origin (not a browser) passes");
    assert.equal((await server.fetch("/parties/main/r/ip", { headers: { origin: server.url } })).status, 200, "same origin passes");
    const good = await server.connect("/parties/main/r", { origin: "https://good.test" });
    good.close();
  } finally {
    await server.close();
  }
});

test("client-sent address headers are replaced by the socket's address unless trustProxy is on", async () => {
  const spoof = { "cf-connecting-ip": "6.6.6.6", "x-real-ip": "6.6.6.6", "x-forwarded-for": "6.6.6.6" };
  const plain = await startTestServer({ parties: Upload, memory: true });
  try {
    assert.deepEqual(await (await plain.fetch("/parties/main/r/ip", { headers: spoof })).json(), { ip: "127.0.0.1", real: "127.0.0.1", xff: "127.0.0.1" });
  } finally {
    await plain.close();
  }
  const proxied = await startTestServer({ parties: Upload, memory: true, trustProxy: true });
  try {
    assert.deepEqual(await (await proxied.fetch("/parties/main/r/ip", { headers: spoof })).json(), { ip: "6.6.6.6", real: "6.6.6.6", xff: "6.6.6.6, 127.0.0.1" });
  } finally {
    await proxied.close();
  }
});
