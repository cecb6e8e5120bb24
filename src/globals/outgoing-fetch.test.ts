import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { RoomWrite } from "../storage/engine.js";
import { MemoryEngine } from "../storage/memory-engine.js";
import { GroupCommitStorageService } from "../storage/service.js";
import { CountingEngine, RecordingHooks } from "../storage/test-support.js";
import { holdFetchesFor, outgoingFetch, releaseFetchesFrom } from "./outgoing-fetch.js";

/** Commits take 30 ms: a fetch that did not wait for them would overtake them. */
class SlowCommits extends CountingEngine {
  override async commit(writes: readonly RoomWrite[]) {
    await sleep(30);
    return super.commit(writes);
  }
}

describe("a bundle's fetch() passes the output gate", () => {
  const engine = new SlowCommits(new MemoryEngine());
  const service = new GroupCommitStorageService(engine);
  const room = service.room({ party: "main", room: "r" }, new RecordingHooks());
  /** What the durable store held each time the server received a request. */
  const seenByServer: string[][] = [];
  let server: Server;
  let url: string;
  before(async () => {
    holdFetchesFor(service);
    server = createServer((_req, res) => {
      void engine.inner.get(room.ref, ["k"]).then((found) => {
        seenByServer.push([...found.keys()]);
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(async () => {
    releaseFetchesFrom(service);
    server.close();
    await service.close();
  });

  it("leaves at once when nothing is pending, and after the commit when a write is", async () => {
    assert.equal(await (await outgoingFetch(url)).text(), "ok");
    assert.deepEqual(seenByServer.at(-1), []);
    await room.put("k", 1);
    assert.equal(await (await outgoingFetch(url)).text(), "ok");
    assert.deepEqual(seenByServer.at(-1), ["k"], "the write was durable when the request arrived");
  });

  it("fails, and never reaches the server, when the write before it failed", async () => {
    const before = seenByServer.length;
    engine.failNext = new Error("disk on fire");
    await room.put("lost", 1);
    await assert.rejects(outgoingFetch(url), /disk on fire/);
    assert.equal(seenByServer.length, before);
  });
});
