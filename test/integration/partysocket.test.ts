import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import PartySocket from "partysocket";
import WebSocket from "ws";
import { freePort, nextMessage, spawnPartyhouse, type SpawnedServer } from "../../src/cli/test-support.js";

const config = "test/fixtures/echo/partykit.json";


describe("partysocket, unchanged, against partyhouse start", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "partyhouse-ps-"));
  let server: SpawnedServer | undefined;
  after(async () => {
    await server?.stop("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("talks to a room, then reconnects by itself after the server restarts", async () => {
    const port = await freePort();
    const args = ["start", "--config", config, "--port", String(port), "--persist", dataDir];
    server = await spawnPartyhouse(args);

    const socket = new PartySocket({
      host: `127.0.0.1:${port}`,
      room: "r1",
      id: "client-1",
      WebSocket,
      minReconnectionDelay: 100,
      maxReconnectionDelay: 500,
    });
    const first = nextMessage(socket);
    socket.send("hello");
    assert.equal(await first, "1:hello");

    const viaFetch = await PartySocket.fetch({ host: `127.0.0.1:${port}`, room: "r1" });
    assert.deepEqual(await viaFetch.json(), { count: 1 });

    await server.stop("SIGTERM");
    server = await spawnPartyhouse(args);

    // Queued while disconnected; partysocket flushes it when it reconnects.
    const second = nextMessage(socket);
    socket.send("again");
    assert.equal(await second, "2:again", "reconnected, and the room's storage survived the restart");
    socket.close();
  });
});
