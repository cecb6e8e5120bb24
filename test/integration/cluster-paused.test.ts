/**
 * Cluster mode end to end (issue 19, item 4): a `partyhouse start --cluster` node stopped
 * (SIGSTOP, as a VM pause or a stopped container would) for longer than --max-event-ms and
 * than its lease. On SIGCONT the watchdog must not end it (nothing was blocking its loop), and
 * it must answer nothing from before its lease expired: requests that waited on connections it
 * had already accepted are handled before any timer runs, so before the timer that would fence
 * it. They get 503 + Retry-After, or an answer from an instance built after the node registered
 * again. Bounded: lease 3 s, a 4.5 s stop, every wait has a deadline; only 127.0.0.1.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createTestDatabase } from "../../src/cluster/test-support.js";
import { databases, LEASE_MS, roomFetch, startNode, waitFor } from "./cluster-support.js";

interface RawAnswer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly body: string;
}

/**
 * One kept-alive HTTP/1.1 connection on which the test writes requests itself, so it can write
 * one while the node is stopped (the kernel keeps it until the node reads).
 */
class RawConnection {
  private buffer = Buffer.alloc(0);
  private waiting: ((answer: RawAnswer) => void) | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.deliver();
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () => resolve(new RawConnection(socket)));
      socket.once("error", reject);
    });
  }

  send(path: string): void {
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  }

  answer(timeoutMs = 15_000): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no answer in time")), timeoutMs);
      this.waiting = (answer) => {
        clearTimeout(timer);
        resolve(answer);
      };
      this.deliver();
    });
  }

  close(): void {
    this.socket.destroy();
  }

  /** Hands over one whole answer (the node sends Content-Length for these bodies). */
  private deliver(): void {
    const end = this.buffer.indexOf("\r\n\r\n");
    if (this.waiting === undefined || end < 0) return;
    const lines = this.buffer.subarray(0, end).toString().split("\r\n");
    const headers = new Map(lines.slice(1).map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
    const length = Number(headers.get("content-length") ?? 0);
    if (this.buffer.length < end + 4 + length) return;
    const body = this.buffer.subarray(end + 4, end + 4 + length).toString();
    this.buffer = this.buffer.subarray(end + 4 + length);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting({ status: Number(lines[0]!.split(" ")[1]), retryAfter: headers.get("retry-after"), body });
  }
}

test("a node stopped longer than --max-event-ms and its lease is not killed, and serves nothing from before its lease expired", async () => {
  const db = await createTestDatabase();
  databases.push(db);
  const node = await startNode("paused", db.url, undefined, ["--max-event-ms", "1500"]);
  const port = Number(node.address.split(":")[1]);
  const instance = "/parties/main/p?instance";
  // Accepted and used before the stop: what arrives on them is read without a new accept.
  const [first, second, ...readers] = await Promise.all(Array.from({ length: 7 }, () => RawConnection.open(port)));
  const all = [first!, second!, ...readers];
  try {
    const before = new Set<string>();
    for (const connection of readers) {
      connection.send(instance);
      const answer = await connection.answer();
      assert.equal(answer.status, 200);
      before.add(answer.body);
    }
    assert.equal(before.size, 1, "one instance served them all");
    for (const connection of [first!, second!]) {
      connection.send("/parties/main/spin?spin=0");
      assert.equal((await connection.answer()).status, 200);
    }

    // The stop must land while the node handles a batch of reads: a handler spinning 1 s, with
    // the readers' requests behind it in the same batch (they arrive while an earlier 400 ms
    // spin holds the loop, so one poll returns them all, the 1 s spin first). After SIGCONT
    // they are handled before any timer runs, so before the one that would fence the node.
    first!.send("/parties/main/spin?spin=400");
    await sleep(100);
    second!.send("/parties/main/spin?spin=1000");
    for (const connection of readers) connection.send(instance);
    await sleep(500);
    node.server.child.kill("SIGSTOP");
    // Longer than --max-event-ms (1.5 s) and than the lease (3 s).
    await sleep(LEASE_MS + 1_500);
    const exited = new Promise<never>((_, reject) =>
      node.server.child.once("exit", (code) => reject(new Error(`the node exited with ${code} after SIGCONT:\n${node.server.output()}`))),
    );
    node.server.child.kill("SIGCONT");
    const answers = await Promise.race([Promise.all(all.map((connection) => connection.answer())), exited]);
    // The spins' own answers say nothing here (on a slow machine the stop may land before the
    // second began); the readers' do.
    answers.splice(0, 2);
    for (const answer of answers) {
      if (answer.status === 200) assert.ok(!before.has(answer.body), "a 200 after the stop comes from an instance built after re-registration");
      else {
        assert.equal(answer.status, 503, answer.body);
        assert.equal(answer.retryAfter, "1");
      }
    }

    // The watchdog did not end it, and it serves again once registered.
    await sleep(2_500);
    assert.equal(node.server.child.exitCode, null, node.server.output());
    assert.doesNotMatch(node.server.output(), /longer than max-event-ms/);
    assert.match(node.server.output(), /process was stopped/);
    assert.match(node.server.output(), /cluster node fenced itself/);
    assert.ok(await waitFor(() => (node.server.output().match(/cluster node registered/g) ?? []).length >= 2, 5_000), "registered again");
    const again = await roomFetch(node.address, instance);
    assert.equal(again.status, 200);
    assert.ok(!before.has(await again.text()), "a new instance");
  } finally {
    for (const connection of all) connection.close();
  }
});
