import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { sendWebResponse } from "./http-bridge.js";
import { LazyResponse } from "./lazy-response.js";

const Lazy = LazyResponse as unknown as typeof Response;

/** What a client sees for a response sent through the front door's writer. */
async function overTheWire(make: () => Response, method = "GET"): Promise<{ status: number; statusText: string; headers: Record<string, string>; body: string }> {
  const server = createServer((_req, res) => void sendWebResponse(res, make(), { head: method === "HEAD" }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { method });
    const headers: Record<string, string> = {};
    res.headers.forEach((value, key) => {
      if (key !== "date" && key !== "connection" && key !== "keep-alive") headers[key] = value;
    });
    return { status: res.status, statusText: res.statusText, headers, body: await res.text() };
  } finally {
    server.close();
  }
}

type Wire = Awaited<ReturnType<typeof overTheWire>>;

/** A response on the wire without its framing headers. */
function unframed(wire: Wire): Wire {
  const { "content-length": _length, "transfer-encoding": _encoding, ...headers } = wire.headers;
  return { ...wire, headers };
}

describe("LazyResponse behaves as a Response", () => {
  const cases: Array<[string, (R: typeof Response) => Response]> = [
    ["a string", (R) => new R("hello")],
    ["no body", (R) => new R(null, { status: 201 })],
    ["bytes", (R) => new R(new Uint8Array([104, 105]))],
    ["an ArrayBuffer", (R) => new R(new Uint8Array([1, 2, 3]).buffer)],
    ["json", (R) => R.json({ a: [1, "x"] }, { status: 202, headers: { "x-extra": "1" } })],
    ["own content-type", (R) => new R("<p>", { headers: { "Content-Type": "text/html" }, statusText: "Fine" })],
    ["set-cookie twice", (R) => new R("c", { headers: [["set-cookie", "a=1"], ["set-cookie", "b=2"]] })],
    ["an empty string", (R) => new R("")],
  ];

  for (const [name, make] of cases) {
    it(`matches undici for ${name}: fields, body, and bytes on the wire`, async () => {
      const lazy = make(Lazy);
      const real = make(Response);
      assert.equal(lazy.status, real.status);
      assert.equal(lazy.statusText, real.statusText);
      assert.equal(lazy.ok, real.ok);
      assert.deepEqual([...lazy.headers], [...real.headers]);
      assert.equal(await lazy.text(), await real.text());
      assert.equal(lazy.bodyUsed, real.bodyUsed);
      // The same status, headers and body; only the framing differs: a lazy body's length is
      // known (Content-Length), an undici body is a stream (chunked).
      const [lazyWire, realWire] = [await overTheWire(() => make(Lazy)), await overTheWire(() => make(Response))];
      const body = Buffer.byteLength(lazyWire.body);
      if (real.body !== null) assert.equal(lazyWire.headers["content-length"], String(body));
      assert.deepEqual(unframed(lazyWire), unframed(realWire));
      const lazyHead = await overTheWire(() => make(Lazy), "HEAD");
      if (real.body !== null) assert.equal(lazyHead.headers["content-length"], String(body), "HEAD tells the GET length");
      assert.deepEqual(unframed(lazyHead), unframed(await overTheWire(() => make(Response), "HEAD")));
    });
  }

  it("throws undici's errors for what undici refuses", () => {
    assert.throws(() => new Lazy("x", { status: 99 }), RangeError);
    assert.throws(() => new Lazy("x", { status: 204 }), TypeError);
    assert.throws(() => new Lazy("x", { statusText: "bad\nline" }), TypeError);
    assert.throws(() => new Lazy("x", { headers: { "bad header": "v" } }), TypeError);
    assert.throws(() => Lazy.json(undefined), TypeError);
  });

  it("is a Response to instanceof, both ways, and to undici", async () => {
    const lazy = new Lazy("x");
    assert.ok(lazy instanceof Response);
    assert.ok(new Response("x") instanceof Lazy, "fetch() results stay Responses for user code");
    class Mine extends LazyResponse {}
    assert.ok(new Mine("y") instanceof Mine);
    assert.ok(!(new Response("x") instanceof Mine));
    assert.equal(Object.prototype.toString.call(lazy), "[object Response]");
    const cloned = lazy.clone();
    assert.equal(await cloned.text(), "x");
    assert.equal(await new Response(new Lazy("wrapped").body).text(), "wrapped");
    await assert.rejects(async () => {
      await lazy.text();
      await lazy.text();
    }, TypeError);
  });

  it("copies byte bodies at construction, as undici does", async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const lazy = new Lazy(bytes);
    bytes[0] = 9;
    assert.deepEqual([...new Uint8Array(await lazy.arrayBuffer())], [1, 2, 3]);
  });
});
