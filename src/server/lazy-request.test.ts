import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { toWebRequest } from "./http-bridge.js";
import { LazyRequest } from "./lazy-request.js";

/** Sends one request to a real server and hands the bridged Request to `check`. */
async function withRequest(init: RequestInit & { path?: string }, check: (request: Request) => Promise<unknown>): Promise<unknown> {
  let result: Promise<unknown> = Promise.resolve();
  const server = createServer((req: IncomingMessage, res) => {
    result = check(toWebRequest(req));
    result.then(
      () => res.end("ok"),
      () => res.end("failed"),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    await (await fetch(`http://127.0.0.1:${port}${init.path ?? "/"}`, init)).text();
    return await result;
  } finally {
    server.close();
  }
}

describe("LazyRequest behaves as a Request", () => {
  it("answers method, url and headers without becoming real, and is a Request", async () => {
    await withRequest({ path: "/parties/main/r?x=1", headers: { "x-one": "1" } }, async (request) => {
      assert.ok(request instanceof LazyRequest);
      assert.ok(request instanceof Request);
      assert.equal(request.method, "GET");
      assert.match(request.url, /^http:\/\/127\.0\.0\.1:\d+\/parties\/main\/r\?x=1$/);
      assert.equal(request.headers.get("x-one"), "1");
      assert.equal(request.headers.get("cf-connecting-ip"), "127.0.0.1");
      assert.equal(Object.prototype.toString.call(request), "[object Request]");
    });
  });

  it("reads a streamed body through the real Request", async () => {
    const seen = await withRequest({ method: "POST", body: JSON.stringify({ a: 1 }), headers: { "content-type": "application/json" } }, async (request) => {
      const body = await request.json();
      assert.equal(request.bodyUsed, true);
      assert.ok(request.signal instanceof AbortSignal);
      return body;
    });
    assert.deepEqual(seen, { a: 1 });
  });

  it("can be copied with new Request(lazy) and cloned, headers and body included", async () => {
    await withRequest({ method: "PUT", body: "payload", headers: { "x-two": "2" } }, async (request) => {
      const copy = new Request(request);
      assert.equal(copy.method, "PUT");
      assert.equal(copy.headers.get("x-two"), "2");
      assert.equal(await copy.text(), "payload");
    });
    await withRequest({ headers: { "x-three": "3" } }, async (request) => {
      const clone = request.clone();
      assert.equal(clone.headers.get("x-three"), "3");
      const changed = LazyRequest.copy(request as unknown as LazyRequest);
      changed.headers.set("x-three", "changed");
      assert.equal(request.headers.get("x-three"), "3", "a copy's headers are its own");
    });
  });
});
