/**
 * `partyhouse start` on a project that imports `partyhouse/yjs` (YServer, and y-partykit's
 * onConnect with only the import changed), killed with SIGKILL while an editor types: every
 * update another editor had received is there after the restart.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, describe, it } from "node:test";
import { freePort, spawnPartyhouse, type SpawnedServer } from "../../src/cli/test-support.js";
import { partykitEditor, until, websocketEditor, type Editor } from "./support.js";

const config = "test/fixtures/yjs-server/partykit.json";

describe("partyhouse/yjs across a crash", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "partyhouse-yjs-restart-"));
  let server: SpawnedServer | undefined;
  const editors: Editor[] = [];
  after(async () => {
    for (const e of editors) e.destroy();
    await server?.stop("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  for (const party of ["main", "legacy"]) {
    it(`loses no update another editor received (${party === "main" ? "YServer" : "onConnect"}, SIGKILL)`, async () => {
      const port = await freePort();
      const args = ["start", "--config", config, "--host", "127.0.0.1", "--port", String(port), "--persist", dataDir, "--hibernate-after", "200"];
      server = await spawnPartyhouse(args);
      const room = `crash-${party}`;
      const typist = partykitEditor(port, room, { party });
      const watcher = party === "main" ? websocketEditor(port, room) : partykitEditor(port, room, { party });
      editors.push(typist, watcher);
      await until(() => typist.synced && watcher.synced, "sync");

      // Type until the watcher has seen 300 items, then kill the server at once.
      let typing = true;
      const typed = (async () => {
        for (let i = 0; typing && i < 20_000; i++) {
          typist.doc.getArray("a").push([i]);
          if (i % 5 === 4) await sleep(1);
        }
      })();
      await until(() => watcher.doc.getArray("a").length >= 300, "the watcher to receive 300 updates", 30_000);
      server.child.kill("SIGKILL");
      const seen = watcher.doc.getArray("a").toJSON() as number[];
      typing = false;
      await typed;
      await server.stop("SIGKILL");
      typist.destroy();
      watcher.destroy();

      server = await spawnPartyhouse(args);
      const reader = partykitEditor(port, room, { party });
      editors.push(reader);
      await until(() => reader.synced, "the reader to sync after the restart");
      const after = reader.doc.getArray("a").toJSON() as number[];
      assert.ok(after.length >= seen.length, `had ${seen.length} acknowledged items, found ${after.length}`);
      assert.deepEqual(after.slice(0, seen.length), seen, "every update the watcher saw survived, in order");
      await server.stop("SIGTERM");
      server = undefined;
    });
  }
});
