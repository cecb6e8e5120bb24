import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import PartySocket from "partysocket";
import WebSocket from "ws";
import type * as Party from "../types/party.js";
import { freePort, nextMessage } from "../cli/test-support.js";
import { TestSocket } from "../testing/index.js";
import { startTestCluster } from "./test-cluster.js";

class Room implements Party.Server {
  constructor(readonly room: Party.Room) {}
  onConnect(connection: Party.Connection) {
    connection.send(`hello from ${String(this.room.env.NODE)}`);
  }
  onMessage(message: string | ArrayBuffer, connection: Party.Connection) {
    connection.send(`${String(this.room.env.NODE)}:${String(message)}`);
  }
}


describe("graceful drain", () => {
  it("hands rooms back with 1012; partysocket reconnects through its edge to the next owner", async () => {
    const cluster = await startTestCluster(["a", "b", "c"], { main: Room });
    let socket: PartySocket | undefined;
    try {
      cluster.table.assign({ party: "main", room: "d1" }, "a");
      cluster.table.assign({ party: "main", room: "d2" }, "a");
      const other = await TestSocket.open(`ws://127.0.0.1:${cluster.nodes.c!.port}/parties/main/d2`);
      assert.equal(await other.nextText(), "hello from a");
      const direct = await TestSocket.open(`ws://127.0.0.1:${cluster.nodes.a!.port}/parties/main/d1?_pk=direct`);
      assert.equal(await direct.nextText(), "hello from a");

      const closeCodes: number[] = [];
      socket = new PartySocket({
        host: `127.0.0.1:${cluster.nodes.b!.port}`,
        room: "d1",
        id: "through-b",
        WebSocket,
        minReconnectionDelay: 50,
        maxReconnectionDelay: 200,
      });
      socket.addEventListener("close", (event) => closeCodes.push((event as CloseEvent).code));
      assert.equal(await nextMessage(socket), "hello from a");

      const reconnected = nextMessage(socket);
      await cluster.nodes.a!.server.close(); // what SIGTERM runs
      assert.equal((await direct.closed).code, 1012);
      const hello = await reconnected;
      assert.equal(closeCodes[0], 1012, "the proxied socket closed with 1012 too");
      assert.match(hello, /^hello from [bc]$/);
      const owner = cluster.table.ownerOf({ party: "main", room: "d1" });
      assert.equal(hello, `hello from ${owner}`);
      assert.equal((await other.closed).code, 1012);
      assert.equal(cluster.table.ownerOf({ party: "main", room: "d2" }), undefined, "every room was released");

      const echoed = nextMessage(socket);
      socket.send("after drain");
      assert.equal(await echoed, `${owner}:after drain`);
    } finally {
      socket?.close();
      await cluster.close();
    }
  });

  describe("SIGTERM on a cluster node process", () => {
    const dir = mkdtempSync(join(tmpdir(), "partyhouse-drain-"));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("closes its sockets with 1012 and exits 0", async () => {
      const port = await freePort();
      const spec = { secret: "s".repeat(32), nodes: { a: `127.0.0.1:${port}` }, rooms: { "main/r": "a" } };
      const specPath = join(dir, "spec.json");
      writeFileSync(specPath, JSON.stringify(spec));
      const child = spawn(process.execPath, ["--import", "tsx", "src/cluster/fixtures/cluster-node.ts", specPath, "a", String(port)], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("ready on") && resolve());
          void exited.then((code) => reject(new Error(`node exited early with ${code}`)));
        });
        const socket = await TestSocket.open(`ws://127.0.0.1:${port}/parties/main/r`);
        assert.equal(await socket.nextText(), "hello from a");
        child.kill("SIGTERM");
        assert.equal((await socket.closed).code, 1012);
        assert.equal(await exited, 0);
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    });
  });
});
