import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { EdgeLink, linkedToWebResponse, type LinkAnswer } from "./link-edge.js";
import { OwnerLink, type LinkedRequestHandler, type RequestMeta } from "./link-owner.js";

/**
 * Both ends of a peer link over real sockets on 127.0.0.1: an HTTP server that switches every
 * upgrade to an OwnerLink running `handler`, and an EdgeLink to it. (The front door's own check
 * of the secret is tested in cluster-router.test.ts.)
 */
interface Rig {
  edge: EdgeLink;
  /** The owner's link sockets. */
  sockets: Socket[];
  close(): void;
}

async function startRig(handler: LinkedRequestHandler): Promise<Rig> {
  const sockets: Socket[] = [];
  const server: Server = createServer();
  server.on("upgrade", (_req, socket: Socket, head: Buffer) => {
    sockets.push(socket);
    socket.write("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: partyhouse-link\r\n\r\n");
    new OwnerLink(socket, head, { request: handler, connection: (stream) => server.emit("connection", stream), failure: () => {} });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const edge = new EdgeLink(`127.0.0.1:${(server.address() as AddressInfo).port}`, "secret");
  return {
    edge,
    sockets,
    close() {
      edge.close();
      server.closeAllConnections();
      server.close();
    },
  };
}

function meta(room: string, method = "GET"): RequestMeta {
  return { party: "main", room, method, url: `http://edge.example/parties/main/${room}`, headers: ["x-seen", "edge"], cf: { country: "NZ" } };
}

function responseOf(answer: LinkAnswer): Response {
  assert.equal(answer.kind, "response");
  if (answer.kind !== "response") throw new Error("unreachable");
  return linkedToWebResponse(answer.response, "GET");
}

describe("peer link", () => {
  describe("requests and whole answers", () => {
    let rig: Rig;
    before(async () => {
      rig = await startRig(async (party, room, request) => {
        const body = await request.text();
        return Response.json({ party, room, url: request.url, seen: request.headers.get("x-seen"), cf: request.cf, method: request.method, body }, { headers: { "set-cookie": "a=1" } });
      });
    });
    after(() => rig.close());

    it("gives the owner the edge's URL, headers, cf, method and body", async () => {
      const response = responseOf(await rig.edge.request(meta("r1", "POST"), Buffer.from("payload")));
      assert.deepEqual(await response.json(), {
        party: "main",
        room: "r1",
        url: "http://edge.example/parties/main/r1",
        seen: "edge",
        cf: { country: "NZ" },
        method: "POST",
        body: "payload",
      });
      assert.equal(response.headers.get("set-cookie"), "a=1");
    });

    it("carries many requests on one connection", async () => {
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => rig.edge.request(meta(`room-${i}`), undefined)));
      const rooms = await Promise.all(answers.map(async (answer) => ((await responseOf(answer).json()) as { room: string }).room));
      assert.deepEqual(rooms, Array.from({ length: 200 }, (_, i) => `room-${i}`));
      assert.equal(rig.sockets.length, 1, "one link connection");
    });
  });

  describe("streamed answers", () => {
    let rig: Rig;
    let produced = 0;
    let cancelled = false;
    before(async () => {
      rig = await startRig(async () => {
        produced = 0;
        cancelled = false;
        const chunk = new Uint8Array(64 * 1024).fill(5);
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (produced >= 48 * 1024 * 1024) return controller.close();
            produced += chunk.length;
            controller.enqueue(chunk);
          },
          cancel() {
            cancelled = true;
          },
        });
        return new Response(body);
      });
    });
    after(() => rig.close());

    it("stops the owner's stream while the edge does not read, and delivers every byte after", async () => {
      const response = responseOf(await rig.edge.request(meta("big"), undefined));
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.ok(produced < 24 * 1024 * 1024, `the owner produced ${produced} bytes for a reader that read nothing`);
      let received = 0;
      const reader = response.body!.getReader();
      for (let part = await reader.read(); !part.done; part = await reader.read()) received += part.value.byteLength;
      assert.equal(received, 48 * 1024 * 1024);
    });

    it("cancels the owner's stream when the edge's reader goes away", async () => {
      const response = responseOf(await rig.edge.request(meta("big"), undefined));
      const reader = response.body!.getReader();
      await reader.read();
      await reader.cancel();
      const deadline = Date.now() + 5_000;
      while (!cancelled && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(cancelled, true, "the room's body stream was cancelled");
    });
  });

  it("gives a request none of the frames still on their way for a cancelled one before it", async () => {
    // "old" streams 1s; its second chunk is held back until "next" (1 MB of 2s) has been
    // answered, so the owner sends it, for the cancelled stream, after next's head: a frame for
    // a request that now shares next's slot on the edge.
    const chunkOf = (byte: number) => new Uint8Array(64 * 1024).fill(byte);
    let releaseOld = () => {};
    const rig = await startRig(async (_party, room) => {
      if (room === "old") {
        let sent = 0;
        return new Response(
          new ReadableStream<Uint8Array>({
            async pull(controller) {
              if (sent++ > 0) await new Promise<void>((resolve) => (releaseOld = resolve));
              controller.enqueue(chunkOf(1));
            },
          }),
        );
      }
      setTimeout(() => releaseOld(), 50);
      let sent = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (sent >= 1024 * 1024) return controller.close();
            sent += 64 * 1024;
            // Slow enough that the old chunk arrives while next's body is still coming.
            await new Promise((resolve) => setTimeout(resolve, 10));
            controller.enqueue(chunkOf(2));
          },
        }),
      );
    });
    try {
      const old = responseOf(await rig.edge.request(meta("old"), undefined)).body!.getReader();
      await old.read();
      await old.cancel();
      const next = responseOf(await rig.edge.request(meta("next"), undefined));
      const body = new Uint8Array(await next.arrayBuffer());
      assert.equal(body.byteLength, 1024 * 1024, "the next answer's length");
      assert.ok(body.every((byte) => byte === 2), "the next answer holds bytes of the cancelled one");
    } finally {
      rig.close();
    }
  });

  it("answers 'unreachable' for requests in flight when the link breaks, and reconnects for the next", async () => {
    let calls = 0;
    const rig = await startRig(async (): Promise<Response> => {
      calls++;
      if (calls === 1) {
        rig.sockets[0]!.destroy(); // the owner dies while serving
        return new Promise(() => {});
      }
      return new Response("second");
    });
    try {
      const first = await rig.edge.request(meta("r"), undefined);
      assert.equal(first.kind, "unreachable");
      const second = responseOf(await rig.edge.request(meta("r"), undefined));
      assert.equal(await second.text(), "second");
      assert.equal(rig.sockets.length, 2, "a new link");
    } finally {
      rig.close();
    }
  });

  it("answers 'unreachable' when nothing listens", async () => {
    const edge = new EdgeLink("127.0.0.1:1", "secret");
    const answer = await edge.request(meta("r"), undefined);
    assert.equal(answer.kind, "unreachable");
  });

  describe("streamed request bodies", () => {
    /** A body of `total` bytes made as it is read, counting what was taken from it. */
    function lazyBody(total: number): { source: Readable; taken: () => number } {
      let taken = 0;
      const chunk = Buffer.alloc(64 * 1024, 120);
      const source = new Readable({
        read() {
          if (taken >= total) return void this.push(null);
          taken += chunk.length;
          this.push(chunk);
        },
      });
      return { source, taken: () => taken };
    }

    it("carries a body of any size on the link, read only as fast as the room reads it", async () => {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const rig = await startRig(async (_party, _room, request) => {
        await released; // the room does not read yet
        let bytes = 0;
        for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
        return new Response(String(bytes));
      });
      try {
        const total = 64 * 1024 * 1024;
        const body = lazyBody(total);
        const answer = rig.edge.request({ ...meta("r", "POST"), streamed: true }, body.source);
        await new Promise((resolve) => setTimeout(resolve, 500));
        // Held back by the owner's pause and the link's high-water mark, not read into memory.
        assert.ok(body.taken() < 16 * 1024 * 1024, `read ${body.taken()} bytes of the body before the room read any`);
        release();
        assert.equal(await responseOf(await answer).text(), String(total));
        assert.equal(rig.sockets.length, 1, "the link's one connection, no other");
      } finally {
        rig.close();
      }
    });

    it("stops sending a body the room answered without reading", async () => {
      const rig = await startRig(async () => new Response("not read", { status: 413 }));
      try {
        const body = lazyBody(256 * 1024 * 1024);
        const response = responseOf(await rig.edge.request({ ...meta("r", "POST"), streamed: true }, body.source));
        assert.equal(response.status, 413);
        await new Promise((resolve) => setTimeout(resolve, 300));
        const received = rig.sockets[0]!.bytesRead;
        assert.ok(received < 32 * 1024 * 1024, `the owner received ${received} bytes of a body nobody reads`);
        // The link still serves the next request.
        assert.equal(await responseOf(await rig.edge.request(meta("r"), undefined)).text(), "not read");
      } finally {
        rig.close();
      }
    });

    /** The client's body fails (`early`: before the request is even sent); the room's read must fail, not hang. */
    async function bodyFailureSeenByRoom(early: boolean): Promise<void> {
      let failure: unknown;
      const rig = await startRig(async (_party, _room, request) => {
        try {
          await request.text();
        } catch (error) {
          failure = error;
        }
        return new Response("after the failure");
      });
      try {
        const source = new Readable({ read() {} });
        // As the real source (an IncomingMessage) does, 'error' reaches listeners only: the
        // link may still be connecting when the client goes, before the edge listens.
        source.on("error", () => {});
        source.push(Buffer.from("part"));
        const fail = () => source.destroy(new Error("client went away"));
        if (early) fail();
        const answer = rig.edge.request({ ...meta("r", "POST"), streamed: true }, source);
        if (!early) setTimeout(fail, 50);
        assert.equal(await responseOf(await answer).text(), "after the failure");
        assert.ok(failure instanceof Error);
      } finally {
        rig.close();
      }
    }

    it("fails the room's read when the client's body fails", () => bodyFailureSeenByRoom(false));

    it("fails the room's read when the client went away before the link connected", () => bodyFailureSeenByRoom(true));
  });
});
