import assert from "node:assert/strict";
import { createServer as createHttpServer, request } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { test } from "node:test";
import { HandedInConnections } from "./accept-connection.js";

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
