import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, describe, it } from "node:test";
import WebSocket from "ws";
import * as Y from "yjs";
import YPartyKitProvider from "y-partykit/provider";
import { freePort, spawnPartyhouse, type SpawnedServer } from "../../src/cli/test-support.js";

const config = "test/fixtures/yjs/partykit.json";

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function provider(port: number, room: string, doc: Y.Doc): YPartyKitProvider {
  return new YPartyKitProvider(`127.0.0.1:${port}`, room, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  });
}

describe("y-partykit, unchanged, against partyhouse start", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "partyhouse-yjs-"));
  let server: SpawnedServer | undefined;
  after(async () => {
    await server?.stop("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("converges two providers on a Y.Text and keeps it across a restart (snapshot mode)", async () => {
    const port = await freePort();
    const args = ["start", "--config", config, "--port", String(port), "--persist", dataDir];
    server = await spawnPartyhouse(args);

    const docA = new Y.Doc();
    const docB = new Y.Doc();
    const a = provider(port, "doc-1", docA);
    const b = provider(port, "doc-1", docB);
    await until(() => a.synced && b.synced, "both providers to sync");
    docA.getText("t").insert(0, "hello ");
    docB.getText("t").insert(0, "world");
    await until(
      () => docA.getText("t").toString() === docB.getText("t").toString() && docA.getText("t").length === 11,
      "the two docs to converge",
    );
    const converged = docA.getText("t").toString();
    // A provider's awareness keeps an interval timer of its own; destroy both.
    for (const p of [a, b]) {
      p.destroy();
      p.awareness.destroy();
    }
    await sleep(200); // the last leave compacts the update log into a snapshot

    assert.equal(await server.stop("SIGTERM"), 0, "graceful stop exits 0");
    server = await spawnPartyhouse(args);

    const docC = new Y.Doc();
    const c = provider(port, "doc-1", docC);
    await until(() => c.synced && docC.getText("t").length === 11, "a fresh provider to load the persisted doc");
    assert.equal(docC.getText("t").toString(), converged);
    c.destroy();
    c.awareness.destroy();
  });
});
