import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { outgoingFetch } from "../globals/outgoing-fetch.js";
import { toWebRequest, type BridgedRequest, type ToWebRequestInfo } from "./http-bridge.js";
import { BundleRequest, LazyRequest } from "./lazy-request.js";
import { rawRequest } from "./test-support.js";

/** Both bridges of one request: `lazy` as parties bundled by partyhouse get it, `real` as undici's. */
interface Pair {
  lazy: BridgedRequest | Error;
  real: BridgedRequest | Error;
}

function attempt(make: () => BridgedRequest): BridgedRequest | Error {
  try {
    return make();
  } catch (error) {
    return error as Error;
  }
}

/** Sends `head` over a real socket and bridges what the server received both ways. */
async function bridgeBoth(head: string, info: ToWebRequestInfo = {}, body = ""): Promise<Pair> {
  let pair: Pair | undefined;
  const server = createServer((req: IncomingMessage, res) => {
    pair = {
      lazy: attempt(() => toWebRequest(req, { ...info, lazy: true })),
      real: attempt(() => toWebRequest(req, { ...info, lazy: false })),
    };
    res.end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await rawRequest((server.address() as AddressInfo).port, head, body);
  } finally {
    server.close();
  }
  assert.ok(pair, "the server saw the request");
  return pair;
}

/** Settles a promise to what a test can compare: its value or the error's name and message. */
async function outcome(run: () => Promise<unknown>): Promise<unknown> {
  try {
    const value = await run();
    if (value instanceof ArrayBuffer) return { bytes: value.byteLength };
    if (value instanceof Uint8Array) return { bytes: value.byteLength };
    if (value instanceof Blob) return { blob: value.size, type: value.type };
    return { value };
  } catch (error) {
    return { error: (error as Error).name, message: (error as Error).message };
  }
}

/** Every public member of Request answers the same on both, and so do their clones. */
async function assertSameRequest(lazy: Request, real: Request, depth = 0): Promise<void> {
  for (const key of Reflect.ownKeys(Request.prototype)) {
    const descriptor = Object.getOwnPropertyDescriptor(Request.prototype, key)!;
    if (!descriptor.get || key === "headers" || key === "signal") continue;
    assert.deepEqual((lazy as unknown as Record<PropertyKey, unknown>)[key], (real as unknown as Record<PropertyKey, unknown>)[key], String(key));
  }
  assert.deepEqual([...lazy.headers], [...real.headers]);
  assert.deepEqual(lazy.headers.getSetCookie(), real.headers.getSetCookie());
  assert.equal(lazy.headers, lazy.headers, "one Headers, mutable in place");
  assert.ok(lazy.signal instanceof AbortSignal);
  assert.equal(lazy.signal, lazy.signal);
  assert.equal(lazy.signal.aborted, real.signal.aborted);
  assert.deepEqual(Object.keys(lazy), Object.keys(real));
  assert.deepEqual((lazy as BridgedRequest).cf, (real as BridgedRequest).cf);
  assert.deepEqual(Object.getOwnPropertyDescriptor(lazy, "cf"), Object.getOwnPropertyDescriptor(real, "cf"));
  assert.equal(Object.prototype.toString.call(lazy), Object.prototype.toString.call(real));
  assert.ok(lazy instanceof Request);
  assert.equal(JSON.stringify(lazy), JSON.stringify(real));
  for (const reader of ["text", "arrayBuffer", "bytes", "blob", "json", "formData"] as const) {
    if (typeof real[reader] !== "function") continue;
    assert.deepEqual(await outcome(() => lazy[reader]()), await outcome(() => real[reader]()), reader);
  }
  assert.equal(lazy.bodyUsed, real.bodyUsed);
  if (depth === 0) await assertSameRequest(lazy.clone(), real.clone(), 1);
}

const PLAIN = "GET /parties/main/room/sub?x=1&y=%20 HTTP/1.1\r\nHost: 127.0.0.1:1999\r\nX-Custom: yes\r\nAuthorization: Bearer t";

describe("a request without a body is a LazyRequest that answers like undici's Request", () => {
  const cases: Array<[string, string, ToWebRequestInfo?]> = [
    ["a GET with headers", PLAIN],
    ["a HEAD", "HEAD /parties/main/r HTTP/1.1\r\nHost: h.test"],
    ["a DELETE", "DELETE /parties/main/r HTTP/1.1\r\nHost: h.test"],
    ["an OPTIONS", "OPTIONS /parties/main/r HTTP/1.1\r\nHost: h.test\r\nOrigin: http://o.test"],
    ["a POST without a body", "POST /parties/main/r HTTP/1.1\r\nHost: h.test\r\nContent-Length: 0"],
    ["a PATCH without a body", "PATCH /parties/main/r HTTP/1.1\r\nHost: h.test"],
    ["a Host the URL parser rewrites (case, default port)", "GET /p HTTP/1.1\r\nHost: LocalHost.TEST:80"],
    ["a numeric IPv4 Host", "GET /p HTTP/1.1\r\nHost: 0x7f.1:8080"],
    ["an IPv6 Host", "GET /p HTTP/1.1\r\nHost: [0:0::1]:1999"],
    ["the highest port", "GET /p HTTP/1.1\r\nHost: h.test:65535"],
    ["a target with dot segments, %2e and a query", "GET /parties/main/r/a/../b/%2e/c?q='x'&s=%22 HTTP/1.1\r\nHost: h.test"],
    ["an absolute-form target", "GET http://other.test/x/y?z=1 HTTP/1.1\r\nHost: h.test"],
    ["no Host, with a fallback origin", "GET /a?b HTTP/1.0", { origin: "http://Fallback.TEST:80" }],
    ["a Host that could move the path", "GET /p HTTP/1.1\r\nHost: evil.test/x?"],
    ["repeated headers and cookies", "GET / HTTP/1.1\r\nHost: h\r\nX-Many: a\r\nX-Many: b\r\nCookie: a=1\r\nCookie: b=2"],
    ["address headers a client may not set", "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 203.0.113.7\r\nCF-Connecting-IP: 203.0.113.7\r\nX-Real-IP: 203.0.113.8"],
    [
      "a trusted proxy's address and geo headers",
      "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 203.0.113.7\r\nCF-Connecting-IP: 203.0.113.7\r\nCF-IPCountry: NZ",
      { trustProxy: true },
    ],
  ];
  for (const [name, head, info] of cases) {
    it(name, async () => {
      const { lazy, real } = await bridgeBoth(head, info);
      assert.ok(!(real instanceof Error), String(real));
      assert.ok(!(lazy instanceof Error), String(lazy));
      assert.ok(LazyRequest.isLazy(lazy), "the lazy path was taken");
      assert.ok(!LazyRequest.isLazy(real));
      await assertSameRequest(lazy, real);
    });
  }
});

describe("requests a LazyRequest cannot stand for are undici's, as before", () => {
  it("a body: a streamed undici Request", async () => {
    const { lazy, real } = await bridgeBoth("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5", {}, "hello");
    assert.ok(!(lazy instanceof Error) && !LazyRequest.isLazy(lazy));
    assert.ok(!(real instanceof Error));
    assert.equal(lazy.method, "POST");
    assert.ok(lazy.body instanceof ReadableStream);
  });

  for (const [name, head] of [
    ["a method undici refuses", "TRACE /p HTTP/1.1\r\nHost: h"],
    ["a port past 65535", "GET /p HTTP/1.1\r\nHost: h.test:99999"],
  ]) {
    it(`${name}: the same TypeError`, async () => {
      const { lazy, real } = await bridgeBoth(head!);
      assert.ok(real instanceof TypeError, "undici refuses it");
      assert.ok(lazy instanceof TypeError);
      assert.equal(lazy.message, real.message);
    });
  }

  it("a method outside the common ones (WebDAV's PROPFIND): an undici Request", async () => {
    const { lazy, real } = await bridgeBoth("PROPFIND /p HTTP/1.1\r\nHost: h");
    assert.ok(!(lazy instanceof Error) && !LazyRequest.isLazy(lazy));
    assert.ok(!(real instanceof Error));
    assert.equal(lazy.method, real.method);
  });
});

describe("a LazyRequest where undici needs its own Request", () => {
  async function lazyRequest(head = PLAIN): Promise<BridgedRequest> {
    const { lazy } = await bridgeBoth(head);
    assert.ok(!(lazy instanceof Error) && LazyRequest.isLazy(lazy));
    return lazy;
  }

  it("undici's own constructor refuses one as input (why bundles get BundleRequest), takes one as init", async () => {
    const lazy = await lazyRequest("DELETE /p HTTP/1.1\r\nHost: h.test\r\nX-Client: c1");
    assert.throws(() => new Request(lazy), TypeError);
    // As stub.fetch(request) uses it: a Request is read as an init through its public members.
    const asInit = new Request("http://room.invalid/", lazy);
    assert.equal(asInit.method, "DELETE");
    assert.equal(asInit.headers.get("x-client"), "c1");
  });

  it("the bundles' Request takes one as input or init, headers changed before included", async () => {
    const lazy = await lazyRequest("DELETE /p?q HTTP/1.1\r\nHost: h.test");
    lazy.headers.set("x-changed", "1");
    const copy = new BundleRequest(lazy);
    assert.equal(copy.url, "http://h.test/p?q");
    assert.equal(copy.method, "DELETE");
    assert.equal(copy.headers.get("x-changed"), "1");
    const moved = new BundleRequest("http://elsewhere.test/z", lazy);
    assert.equal(moved.url, "http://elsewhere.test/z");
    assert.equal(moved.method, "DELETE");
    assert.equal(moved.headers.get("x-changed"), "1");
    const changed = new BundleRequest(lazy, { method: "PUT", body: "b" });
    assert.equal(changed.method, "PUT");
    assert.equal(await changed.text(), "b");
  });

  it("instanceof, constructor and subclasses behave as with undici's class", async () => {
    const lazy = await lazyRequest();
    assert.ok(lazy instanceof BundleRequest);
    assert.ok(lazy instanceof Request);
    assert.ok(new Request("http://x.test/") instanceof BundleRequest);
    assert.ok(!({} instanceof BundleRequest));
    assert.equal(lazy.constructor, BundleRequest);
    class Tagged extends BundleRequest {
      tag(): string {
        return `tagged ${this.url}`;
      }
    }
    const tagged = new Tagged(lazy);
    assert.ok(tagged instanceof Tagged && tagged instanceof Request);
    assert.equal(tagged.tag(), "tagged http://127.0.0.1:1999/parties/main/room/sub?x=1&y=%20");
  });

  it("a clone has its own headers; changes to either do not show in the other", async () => {
    const lazy = await lazyRequest();
    const before = lazy.clone();
    lazy.headers.set("x-after", "1");
    const after = lazy.clone();
    after.headers.set("x-clone", "1");
    assert.equal(before.headers.get("x-after"), null);
    assert.equal(after.headers.get("x-after"), "1");
    assert.equal(lazy.headers.get("x-clone"), null);
    assert.ok(LazyRequest.isLazy(before) && LazyRequest.isLazy(after));
  });

  it("the bundles' fetch sends one as undici would send the request it stands for", async () => {
    const seen: Array<{ method: string | undefined; url: string | undefined; changed: string | undefined }> = [];
    const upstream = createServer((req, res) => {
      seen.push({ method: req.method, url: req.url, changed: req.headers["x-changed"] as string | undefined });
      res.end("upstream");
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const port = (upstream.address() as AddressInfo).port;
    try {
      const lazy = await lazyRequest(`DELETE /target?q=1 HTTP/1.1\r\nHost: 127.0.0.1:${port}`);
      lazy.headers.set("x-changed", "yes");
      assert.equal(await (await outgoingFetch(lazy)).text(), "upstream");
      assert.equal(await (await outgoingFetch(`http://127.0.0.1:${port}/other`, lazy)).text(), "upstream");
    } finally {
      upstream.close();
    }
    assert.deepEqual(seen, [
      { method: "DELETE", url: "/target?q=1", changed: "yes" },
      { method: "DELETE", url: "/other", changed: "yes" },
    ]);
  });
});
