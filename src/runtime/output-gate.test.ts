import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it, test } from "node:test";
import type * as Party from "../types/party.js";
import { silentLogger } from "./logger.js";
import { OutputGate } from "./output-gate.js";
import { startPartyhouse, type RunningPartyhouse } from "../server/index.js";
import { GroupCommitStorageService, MemoryEngine, type RoomWrite } from "../storage/index.js";

/** The memory engine with slow commits, to make "not durable yet" last long enough to observe. */
class SlowCommits extends MemoryEngine {
  commits = 0;
  /** While set, commits wait for it too: "not durable yet" for as long as a test needs. */
  held: Promise<void> | undefined;
  override async commit(writes: readonly RoomWrite[]) {
    await sleep(COMMIT_MS);
    await this.held;
    this.commits++;
    return super.commit(writes);
  }
}
const COMMIT_MS = 200;

class Store implements Party.Server {
  constructor(readonly room: Party.Room) {}
  async onRequest(req: Party.Request) {
    const path = new URL(req.url).pathname;
    if (path.endsWith("/write")) {
      void this.room.storage.put("k", "written"); // not awaited: only the output gate holds the answer
      return new Response("wrote");
    }
    if (path.endsWith("/await-put")) {
      await this.room.storage.put(path, true);
      return new Response("stored");
    }
    return new Response(String(await this.room.storage.get("k")));
  }
}

describe("output gate with writes in flight", () => {
  let server: RunningPartyhouse;
  let engine: SlowCommits;
  before(async () => {
    engine = new SlowCommits();
    server = await startPartyhouse({
      parties: { main: Store },
      storage: new GroupCommitStorageService(engine),
      port: 0,
      logger: silentLogger,
    });
  });
  after(() => server.close());

  const timed = async (path: string) => {
    const started = Date.now();
    const text = await (await fetch(server.url + path)).text();
    return { text, ms: Date.now() - started };
  };

  it("holds a response until the write it followed is durable, and one that read it too", async () => {
    const [write, read] = await Promise.all([timed("/parties/main/g/write"), sleep(20).then(() => timed("/parties/main/g/read"))]);
    assert.equal(write.text, "wrote");
    assert.ok(write.ms >= COMMIT_MS - 20, `the writer's answer waited for its commit (${write.ms} ms)`);
    assert.equal(read.text, "written", "the reader saw the write at once (no input gate on writes)");
    assert.ok(read.ms >= COMMIT_MS - 60, `but its answer waited until that write was durable (${read.ms} ms)`);
  });

  it("does not hold rooms with nothing pending", async () => {
    let release!: () => void;
    engine.held = new Promise((resolve) => (release = resolve));
    try {
      let writerAnswered = false;
      const writer = timed("/parties/main/other/write").then((answer) => ((writerAnswered = true), answer));
      await sleep(20);
      // Held behind the other room's commit, it would never answer before release().
      const quiet = await Promise.race([timed("/parties/main/quiet/read"), sleep(10_000).then(() => ({ text: "held", ms: 10_000 }))]);
      assert.equal(quiet.text, "undefined");
      assert.ok(!writerAnswered, "the quiet room answered while another room's commit was still held");
      release();
      assert.equal((await writer).text, "wrote");
    } finally {
      release();
      engine.held = undefined;
    }
  });

  it("lets concurrent requests that each await a write share commits instead of queueing", async () => {
    const commitsBefore = engine.commits;
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => fetch(`${server.url}/parties/main/many/${i}/await-put`).then((r) => r.text())));
    assert.deepEqual(new Set(answers), new Set(["stored"]));
    // One commit after another would take ten; sharing them takes one or two.
    assert.ok(engine.commits - commitsBefore <= 3, `${engine.commits - commitsBefore} commits for 10 writes`);
  });
});

/** A promise with its resolve and reject, to settle writes in a chosen order. */
function write(): { durable: Promise<void>; done: () => void; fail: (error: Error) => void } {
  let done!: () => void;
  let fail!: (error: Error) => void;
  const durable = new Promise<void>((resolve, reject) => {
    done = resolve;
    fail = reject;
  });
  durable.catch(() => {});
  return { durable, done, fail };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test("output waits for its own write even when the write before it has passed", async () => {
  const gate = new OutputGate();
  const first = write();
  const second = write();
  const released: string[] = [];
  gate.pass(first.durable, () => released.push("a1"));
  gate.pass(first.durable, () => released.push("a2"));
  gate.pass(second.durable, () => released.push("b1"));
  gate.pass(first.durable, () => released.push("a3 after b1"));
  gate.pass(undefined, () => released.push("none"));
  await settle();
  assert.deepEqual(released, []);
  first.done();
  await settle();
  // a3 shares the first write but was produced after b1: order of production wins.
  assert.deepEqual(released, ["a1", "a2"]);
  second.done();
  await settle();
  assert.deepEqual(released, ["a1", "a2", "b1", "a3 after b1", "none"]);
});

test("a failed write drops everything held behind it, also output of writes that passed", async () => {
  const gate = new OutputGate();
  const first = write();
  const second = write();
  const released: string[] = [];
  const dropped: string[] = [];
  gate.pass(first.durable, () => released.push("a"), () => dropped.push("a"));
  gate.pass(second.durable, () => released.push("b"), () => dropped.push("b"));
  gate.pass(first.durable, () => released.push("c"), () => dropped.push("c"));
  first.done();
  await settle();
  second.fail(new Error("disk full"));
  await settle();
  assert.deepEqual(released, ["a"]);
  assert.deepEqual(dropped, ["b", "c"]);
});

test("outputs behind one write leave together, not one microtask each", async () => {
  const gate = new OutputGate();
  const commit = write();
  const released: string[] = [];
  // Code queued by the first release runs only after the others behind the same write went out.
  gate.pass(commit.durable, () => {
    released.push("a1");
    queueMicrotask(() => released.push("other code"));
  });
  gate.pass(commit.durable, () => released.push("a2"));
  gate.pass(commit.durable, () => released.push("a3"));
  commit.done();
  await settle();
  assert.deepEqual(released, ["a1", "a2", "a3", "other code"]);
});
