import assert from "node:assert/strict";
import { Agent, request as httpRequest } from "node:http";
import { test } from "node:test";
import type * as Party from "../types/party.js";
import { startTestServer } from "../testing/index.js";

class Slow implements Party.Server {
  constructor(readonly room: Party.Room) {}
  async onRequest(req: Party.Request) {
    const path = new URL(req.url).pathname;
    if (path.endsWith("/stuck")) await new Promise(() => undefined); // never answers
    await new Promise((resolve) => setTimeout(resolve, 300));
    await this.room.storage.put("k", path);
    return new Response(`done ${path}`);
  }
}

function get(port: number, path: string, agent?: Agent): Promise<{ status: number; body: string; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, ...(agent ? { agent } : {}) }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body, retryAfter: res.headers["retry-after"] as string | undefined }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("requests in flight when the server stops are answered, not reset; new ones get 503 + Retry-After", async () => {
  const server = await startTestServer({ parties: Slow, memory: true });
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  try {
    // Open two keep-alive connections, so a request can still arrive while draining.
    await Promise.all([get(server.port, "/parties/main/warm1", agent), get(server.port, "/parties/main/warm2", agent)]);
    const inFlight = get(server.port, "/parties/main/a/slow", agent);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = server.server.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const late = await get(server.port, "/parties/main/b", agent).catch((error: Error) => ({ status: 0, body: error.message, retryAfter: undefined }));
    const answered = await inFlight;
    assert.equal(answered.status, 200);
    assert.equal(answered.body, "done /parties/main/a/slow");
    // Either refused on a kept-alive connection, or the listener was already closed to it.
    if (late.status !== 0) {
      assert.equal(late.status, 503);
      assert.equal(late.retryAfter, "1");
    }
    await closing;
  } finally {
    agent.destroy();
    await server.close();
  }
});

test("a request stuck in user code gets 503 at the drain deadline and the stop completes", async () => {
  const server = await startTestServer({ parties: Slow, memory: true, drainTimeoutMs: 300 });
  try {
    const stuck = get(server.port, "/parties/main/a/stuck");
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await server.server.close();
    const got = await stuck;
    assert.equal(got.status, 503);
    assert.equal(got.retryAfter, "1");
    // The drain (300 ms) plus the room's wait for the stuck event to settle (2 s), no more.
    assert.ok(Date.now() - started < 4000, `stopped in ${Date.now() - started} ms`);
  } finally {
    await server.close();
  }
});
