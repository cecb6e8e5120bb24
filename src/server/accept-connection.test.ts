import assert from "node:assert/strict";
import { createServer as createHttpServer, request } from "node:http";
import { createConnection, createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { test } from "node:test";
import fc from "fast-check";
import { HandedInConnections, requestSize } from "./accept-connection.js";

test("a connection accepted elsewhere is served by the HTTP server, with Nagle's algorithm off as for its own", async () => {
  // What each handed-in socket was asked for (setNoDelay is the only public handle on TCP_NODELAY).
  const noDelay: Array<boolean | undefined> = [];
  let servedAfterNoDelay: boolean | undefined;
  const http = createHttpServer((_req, res) => {
    servedAfterNoDelay = noDelay.length > 0;
    res.end("served");
  });
  const handedIn = new HandedInConnections(http);
  // Stands for the supervisor: accepts the TCP connection and hands the socket over.
  const listener = createNetServer((socket: Socket) => {
    const setNoDelay = socket.setNoDelay.bind(socket);
    socket.setNoDelay = (enable?: boolean) => {
      noDelay.push(enable === undefined ? true : enable);
      return setNoDelay(enable);
    };
    handedIn.accept(socket);
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = listener.address() as AddressInfo;
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(body, "served");
    assert.deepEqual(noDelay, [true]);
    assert.equal(servedAfterNoDelay, true);
  } finally {
    listener.close();
    http.close();
  }
});

test("requestSize is the bytes a request took as sent, for any request written the usual way (property test)", async () => {
  const sizes: Array<number | undefined> = [];
  const http = createHttpServer((req, res) => {
    sizes.push(requestSize(req));
    req.resume();
    req.on("end", () => res.end());
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  const token = fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/);
  // Header values: visible latin1 text, inner spaces allowed, none at either end (Node trims those).
  const value = fc.stringMatching(/^[!-~\u00a0-\u00ff]([ !-~\u00a0-\u00ff]{0,30}[!-~\u00a0-\u00ff])?$/);
  const request = fc.record({
    method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"),
    path: fc.stringMatching(/^\/[A-Za-z0-9/._~%?=&-]{0,40}$/),
    version: fc.constantFrom("1.1", "1.0"),
    headers: fc.array(fc.tuple(token.filter((name) => !/^(content-length|transfer-encoding|host|connection)$/i.test(name)), value), { maxLength: 8 }),
    body: fc.string({ maxLength: 40 }),
  });
  try {
    await fc.assert(
      fc.asyncProperty(request, async ({ method, path, version, headers, body }) => {
        const bytes = Buffer.concat([
          Buffer.from(`${method} ${path} HTTP/${version}\r\nHost: 127.0.0.1\r\nConnection: close\r\n`, "latin1"),
          ...headers.map(([name, text]) => Buffer.from(`${name}: ${text}\r\n`, "latin1")),
          Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`, "latin1"),
          Buffer.from(body),
        ]);
        sizes.length = 0;
        await new Promise<void>((resolve, reject) => {
          const socket = createConnection(port, "127.0.0.1", () => socket.end(bytes));
          socket.on("data", () => {});
          socket.on("close", () => resolve());
          socket.on("error", reject);
        });
        assert.deepEqual(sizes, [bytes.length]);
      }),
      { numRuns: 150 },
    );
    // Unknown, not guessed, for a chunked body.
    sizes.length = 0;
    await new Promise<void>((resolve) => {
      const socket = createConnection(port, "127.0.0.1", () => socket.end("POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"));
      socket.on("data", () => {});
      socket.on("close", () => resolve());
    });
    assert.deepEqual(sizes, [undefined]);
  } finally {
    http.close();
  }
});
