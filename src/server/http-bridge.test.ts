import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { sendText, sendWebResponse, toWebRequest, type BridgedRequest } from "./http-bridge.js";
import { LazyResponse } from "./lazy-response.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** A real server on 127.0.0.1 for the duration of `body`; handler errors fail the test. */
async function withServer(handler: Handler, body: (base: string, port: number) => Promise<void>): Promise<void> {
  const failures: unknown[] = [];
  const server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((error) => {
      failures.push(error);
      if (!res.headersSent) res.writeHead(599).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await body(`http://127.0.0.1:${port}`, port);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  if (failures.length > 0) throw failures[0];
}

/** Captures the bridged request and answers 200 "ok". */
async function bridged(
  send: (base: string, port: number) => Promise<unknown>,
  origin?: string,
  trustProxy = false,
): Promise<BridgedRequest> {
  let captured: BridgedRequest | undefined;
  await withServer(
    async (req, res) => {
      captured = toWebRequest(req, origin === undefined ? { trustProxy } : { origin, trustProxy });
      res.end("ok");
    },
    async (base, port) => {
      await send(base, port);
    },
  );
  assert.ok(captured);
  return captured;
}

/** Sends raw bytes and returns everything the server wrote until it closed. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
    let text = "";
    socket.on("data", (chunk) => (text += chunk.toString("latin1")));
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// --- toWebRequest -------------------------------------------------------------------------

test("GET becomes a Request with the full URL, headers, no body and a cf object", async () => {
  const request = await bridged((base) =>
    fetch(`${base}/parties/main/room/sub?x=1&y=%20`, { headers: { "x-custom": "yes", authorization: "Bearer t" } }),
  );
  assert.match(request.url, /^http:\/\/127\.0\.0\.1:\d+\/parties\/main\/room\/sub\?x=1&y=%20$/);
  assert.equal(request.method, "GET");
  assert.equal(request.headers.get("x-custom"), "yes");
  assert.equal(request.headers.get("authorization"), "Bearer t");
  assert.match(request.headers.get("host") ?? "", /^127\.0\.0\.1:\d+$/);
  assert.equal(request.body, null);
  assert.equal(request.cf.httpProtocol, "HTTP/1.1");
  assert.equal(request.cf.country, undefined, "no invented geo");
  assert.ok(request instanceof Request);
});

test("client address headers come from the socket; what a client sends is believed only with trustProxy", async () => {
  const plain = await bridged((base) => fetch(base));
  assert.equal(plain.headers.get("cf-connecting-ip"), "127.0.0.1");
  assert.equal(plain.headers.get("x-real-ip"), "127.0.0.1");
  assert.equal(plain.headers.get("x-forwarded-for"), "127.0.0.1");

  const spoofing = { "x-forwarded-for": "203.0.113.7", "cf-connecting-ip": "203.0.113.7", "X-Real-IP": "203.0.113.8" };
  const untrusted = await bridged((base) => fetch(base, { headers: spoofing }));
  assert.equal(untrusted.headers.get("x-forwarded-for"), "127.0.0.1");
  assert.equal(untrusted.headers.get("cf-connecting-ip"), "127.0.0.1");
  assert.equal(untrusted.headers.get("x-real-ip"), "127.0.0.1");

  const proxied = await bridged((base) => fetch(base, { headers: spoofing }), undefined, true);
  assert.equal(proxied.headers.get("x-forwarded-for"), "203.0.113.7, 127.0.0.1");
  assert.equal(proxied.headers.get("cf-connecting-ip"), "203.0.113.7");
  assert.equal(proxied.headers.get("x-real-ip"), "203.0.113.8");
});

test("a missing or unusable Host header falls back to the given origin", async () => {
  const noHost = await bridged(
    (_base, port) => rawExchange(port, "GET /a?b HTTP/1.0\r\n\r\n"),
    "http://fallback.test:1999",
  );
  assert.equal(noHost.url, "http://fallback.test:1999/a?b");
  assert.equal(noHost.cf.httpProtocol, "HTTP/1.0");

  // A Host that would move the path (or the origin) must not be trusted.
  const weird = await bridged((_base, port) =>
    rawExchange(port, "GET /parties/main/r HTTP/1.1\r\nHost: evil.test/x?\r\nConnection: close\r\n\r\n"),
  );
  assert.equal(weird.url, "http://localhost/parties/main/r");

  const ipv6 = await bridged((_base, port) =>
    rawExchange(port, "GET / HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n"),
  );
  assert.equal(ipv6.url, "http://[::1]:8080/");

  // The origin of the last usable Host is remembered: hosts that follow it are still checked.
  const sequence = ["a.test:1", "evil.test/x?", "a.test:1", "", "b.test", "b.test"];
  const urls: string[] = [];
  for (const host of sequence) {
    const request = await bridged((_base, port) => rawExchange(port, `GET /p HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    urls.push(request.url);
  }
  assert.deepEqual(urls, ["http://a.test:1/p", "http://localhost/p", "http://a.test:1/p", "http://localhost/p", "http://b.test/p", "http://b.test/p"]);
});

test("absolute-form request targets keep only their path", async () => {
  const request = await bridged((_base, port) =>
    rawExchange(port, "GET http://other.test/x/y?z=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
  );
  assert.equal(request.url, "http://127.0.0.1/x/y?z=1");
});

test("repeated request headers are all kept", async () => {
  const request = await bridged((_base, port) =>
    rawExchange(port, "GET / HTTP/1.1\r\nHost: h\r\nX-Many: a\r\nX-Many: b\r\nConnection: close\r\n\r\n"),
  );
  assert.equal(request.headers.get("x-many"), "a, b");
});

test("request bodies stream through, for any method that has one", async () => {
  const seen: Array<{ method: string; text: string; hadBody: boolean }> = [];
  await withServer(
    async (req, res) => {
      const request = toWebRequest(req, {});
      seen.push({ method: request.method, hadBody: request.body !== null, text: await request.text() });
      res.end("ok");
    },
    async (base) => {
      await fetch(base, { method: "POST", body: "hello" });
      await fetch(base, { method: "PUT", body: JSON.stringify({ a: 1 }) });
      await fetch(base, { method: "DELETE" });
      await fetch(base, { method: "POST", body: "" });
      // A chunked upload: no Content-Length.
      const chunks = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("part1-"));
          controller.enqueue(new TextEncoder().encode("part2"));
          controller.close();
        },
      });
      await fetch(base, { method: "PATCH", body: chunks, duplex: "half" } as RequestInit);
    },
  );
  assert.deepEqual(seen, [
    { method: "POST", hadBody: true, text: "hello" },
    { method: "PUT", hadBody: true, text: '{"a":1}' },
    { method: "DELETE", hadBody: false, text: "" },
    { method: "POST", hadBody: false, text: "" },
    { method: "PATCH", hadBody: true, text: "part1-part2" },
  ]);
});

test("a large upload arrives intact", async () => {
  const size = 8 * 1024 * 1024;
  const payload = Buffer.alloc(size, 7);
  payload[size - 1] = 9;
  let received: Buffer | undefined;
  await withServer(
    async (req, res) => {
      received = Buffer.from(await toWebRequest(req, {}).arrayBuffer());
      res.end("ok");
    },
    async (base) => {
      const response = await fetch(base, { method: "POST", body: payload });
      assert.equal(await response.text(), "ok");
    },
  );
  assert.ok(received);
  assert.equal(received.length, size);
  assert.ok(received.equals(payload));
});

test("an ignored request body does not stall the keep-alive connection", async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const post = (port: number, body: Buffer) =>
    new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, method: "POST", path: "/", agent }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end(body);
    });
  try {
    await withServer(
      async (req, res) => {
        toWebRequest(req, {}); // body never read
        await sendWebResponse(res, new Response("answered"));
      },
      async (_base, port) => {
        const big = Buffer.alloc(2 * 1024 * 1024, 1);
        assert.equal(await deadline(post(port, big), 5000, "first POST"), "answered");
        assert.equal(await deadline(post(port, big), 5000, "second POST"), "answered");
      },
    );
  } finally {
    agent.destroy();
  }
});

// --- sendWebResponse ----------------------------------------------------------------------

interface RawResponse {
  status: number;
  statusMessage: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

function get(port: number, options: { method?: string; path?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, method: options.method ?? "GET", path: options.path ?? "/" },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode!, statusMessage: res.statusMessage!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function answer(response: () => Response, options: { method?: string } = {}): Promise<RawResponse> {
  let result: RawResponse | undefined;
  await withServer(
    (req, res) => sendWebResponse(res, response(), { head: req.method === "HEAD" }),
    async (_base, port) => {
      result = await get(port, options);
    },
  );
  return result!;
}

test("status, status text, headers and every Set-Cookie reach the client", async () => {
  const result = await answer(() => {
    const headers = new Headers({ "content-type": "application/x-test", "x-one": "1" });
    headers.append("set-cookie", "a=1; Path=/");
    headers.append("set-cookie", "b=2; HttpOnly");
    headers.append("x-two", "a");
    headers.append("x-two", "b");
    return new Response("teapot", { status: 418, statusText: "Short And Stout", headers });
  });
  assert.equal(result.status, 418);
  assert.equal(result.statusMessage, "Short And Stout");
  assert.equal(result.headers["content-type"], "application/x-test");
  assert.equal(result.headers["x-one"], "1");
  assert.equal(result.headers["x-two"], "a, b");
  assert.deepEqual(result.headers["set-cookie"], ["a=1; Path=/", "b=2; HttpOnly"]);
  assert.equal(result.body.toString(), "teapot");
});

test("the default status text is Node's", async () => {
  const result = await answer(() => new Response("x", { status: 404 }));
  assert.equal(result.statusMessage, "Not Found");
});

test("bodies built from strings, bytes, JSON and blobs arrive with the right bytes", async () => {
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);
  // What user bundles construct (LazyResponse): the bytes are known, so the length is sent.
  const Bundled = LazyResponse as unknown as typeof Response;
  const cases: Array<[() => Response, Buffer, boolean]> = [
    [() => new Bundled("héllo ✓"), Buffer.from("héllo ✓"), true],
    [() => new Bundled(bytes), Buffer.from(bytes), true],
    [() => new Bundled(bytes.buffer), Buffer.from(bytes), true],
    [() => new Bundled(new Uint16Array([1, 2]).subarray(1)), Buffer.from(new Uint16Array([2]).buffer), true],
    [() => Bundled.json({ a: [1, "two"] }), Buffer.from('{"a":[1,"two"]}'), true],
    [() => new Bundled(new Blob(["blob body"])), Buffer.from("blob body"), false],
    [() => new Bundled(new Response("piped").body), Buffer.from("piped"), false],
    // Plain undici Responses stream whatever they hold (their source is undici's private state).
    [() => new Response("héllo ✓"), Buffer.from("héllo ✓"), false],
    [() => Response.json({ a: [1, "two"] }), Buffer.from('{"a":[1,"two"]}'), false],
  ];
  for (const [make, expected, lengthKnown] of cases) {
    const result = await answer(make);
    assert.deepEqual(result.body, expected);
    if (lengthKnown) assert.equal(result.headers["content-length"], String(expected.length));
    else assert.equal(result.headers["transfer-encoding"], "chunked");
  }
});

test("a Content-Length set by the handler is kept", async () => {
  const result = await answer(() => new Response("abc", { headers: { "content-length": "3" } }));
  assert.equal(result.headers["content-length"], "3");
  assert.equal(result.body.toString(), "abc");
});

test("HEAD, 204 and 304 send no body", async () => {
  const head = await answer(() => new (LazyResponse as unknown as typeof Response)("twelve bytes"), { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
  assert.equal(head.headers["content-length"], "12");

  let cancelled = false;
  const streamed = await answer(
    () => new Response(new ReadableStream({ pull: (c) => c.enqueue(new Uint8Array(10)), cancel: () => void (cancelled = true) })),
    { method: "HEAD" },
  );
  assert.equal(streamed.body.length, 0);
  assert.ok(cancelled, "the unsent body is cancelled");

  const noContent = await answer(() => new Response(null, { status: 204 }));
  assert.equal(noContent.status, 204);
  assert.equal(noContent.body.length, 0);

  const notModified = await answer(() => new Response(null, { status: 304, headers: { etag: '"x"' } }));
  assert.equal(notModified.status, 304);
  assert.equal(notModified.headers.etag, '"x"');
});

test("a streamed body respects backpressure and arrives whole", async () => {
  const chunkSize = 256 * 1024;
  const chunkCount = 200; // 50 MiB, far more than socket buffers hold
  let pulled = 0;
  let done: Promise<void> | undefined;
  await withServer(
    (_req, res) => {
      const body = new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            if (pulled === chunkCount) return controller.close();
            pulled++;
            controller.enqueue(new Uint8Array(chunkSize).fill(pulled % 256));
          },
        },
        { highWaterMark: 0 },
      );
      done = sendWebResponse(res, new Response(body));
    },
    async (_base, port) => {
      const total = await new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: "127.0.0.1", port, path: "/" }, (res) => {
          res.pause();
          setTimeout(() => {
            // The client has read nothing: the producer must be held back by the full socket.
            try {
              assert.ok(pulled < chunkCount / 2, `pulled ${pulled} of ${chunkCount} chunks while the client was paused`);
            } catch (error) {
              reject(error);
              return;
            }
            let bytes = 0;
            res.on("data", (c: Buffer) => (bytes += c.length));
            res.on("end", () => resolve(bytes));
            res.resume();
          }, 300);
        });
        req.on("error", reject);
        req.end();
      });
      assert.equal(total, chunkSize * chunkCount);
      await deadline(done!, 2000, "sendWebResponse to resolve");
    },
  );
});

test("a client that disconnects mid-stream cancels the body, without a rejection", async () => {
  let unhandled: unknown;
  const onUnhandled = (reason: unknown) => (unhandled = reason);
  process.on("unhandledRejection", onUnhandled);
  let cancelled: () => void;
  const wasCancelled = new Promise<void>((resolve) => (cancelled = resolve));
  let sent: Promise<void> | undefined;
  try {
    await withServer(
      (_req, res) => {
        let timer: NodeJS.Timeout | undefined;
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            // An endless slow stream, like server-sent events.
            return new Promise<void>((resolve) => {
              timer = setTimeout(() => {
                controller.enqueue(new TextEncoder().encode("tick\n"));
                resolve();
              }, 10);
            });
          },
          cancel() {
            clearTimeout(timer);
            cancelled();
          },
        });
        sent = sendWebResponse(res, new Response(body, { headers: { "content-type": "text/event-stream" } }));
      },
      async (_base, port) => {
        await new Promise<void>((resolve, reject) => {
          const req = httpRequest({ host: "127.0.0.1", port, path: "/" }, (res) => {
            res.once("data", () => {
              req.destroy();
              resolve();
            });
          });
          req.on("error", () => {});
          req.end();
          setTimeout(() => reject(new Error("no first chunk")), 2000);
        });
        await deadline(wasCancelled, 2000, "body cancel after disconnect");
        await deadline(sent!, 2000, "sendWebResponse to settle");
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(unhandled, undefined);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("a body that fails midway cuts the connection and rejects", async () => {
  let sent: Promise<void> | undefined;
  await withServer(
    (_req, res) => {
      let step = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (step++ === 0) controller.enqueue(new TextEncoder().encode("partial"));
          else controller.error(new Error("generator broke"));
        },
      });
      sent = sendWebResponse(res, new Response(body));
      sent.catch(() => {}); // asserted below
    },
    async (_base, port) => {
      await assert.rejects(get(port));
      await assert.rejects(deadline(sent!, 2000, "sendWebResponse"), /generator broke/);
    },
  );
});

test("a Response whose body was already read is refused before anything is written", async () => {
  const result = await withCapturedStatus(async (res) => {
    const used = new Response("x");
    await used.text();
    await assert.rejects(sendWebResponse(res, used), TypeError);
    sendText(res, 500, "body used");
  });
  assert.equal(result.status, 500);
  assert.equal(result.body.toString(), "body used");
});

async function withCapturedStatus(handler: (res: ServerResponse) => Promise<void>): Promise<RawResponse> {
  let result: RawResponse | undefined;
  await withServer(
    (_req, res) => handler(res),
    async (_base, port) => {
      result = await get(port);
    },
  );
  return result!;
}

// --- sendText -----------------------------------------------------------------------------

test("sendText answers plain text with a length", async () => {
  const result = await withCapturedStatus(async (res) => sendText(res, 404, "Not found"));
  assert.equal(result.status, 404);
  assert.equal(result.headers["content-type"], "text/plain; charset=utf-8");
  assert.equal(result.headers["content-length"], "9");
  assert.equal(result.body.toString(), "Not found");
});

test("sendText after the headers went out cuts the connection instead of throwing", async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200);
      res.write("started");
      sendText(res, 500, "too late");
    },
    async (_base, port) => {
      await assert.rejects(get(port));
    },
  );
});
