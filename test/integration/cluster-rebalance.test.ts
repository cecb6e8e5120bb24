/**
 * Cluster mode (issue 19, item 5): rooms rebalance when a node returns. Three nodes behind a
 * balancer that hashes the room path over the nodes whose /readyz answers (fault-balancer.ts,
 * as the README's HAProxy config does), HTTP clients on twelve rooms. SIGKILL one node: its
 * rooms move to the others (the balancer sends their clients there). Restart it: the balancer
 * sends those clients back to it, it forwards them to the rooms' owners, and each owner, seeing
 * all of a room's clients arrive through that node, hands the room to it. Within a bounded time
 * every room is owned by the node its clients reach, and answers come from there directly. A
 * hibernating room with a socket moves too, once hibernated: its socket closes with 1012 and
 * partysocket reconnects, through the balancer, to the room's new owner.
 * Bounded: lease 3 s (rebalancing window 1.5 s), every wait has a deadline.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { freePort } from "../../src/cli/test-support.js";
import { createTestDatabase } from "../../src/cluster/test-support.js";
import { databases, LEASE_MS, startNode, waitFor, waitForAsync, type Node } from "./cluster-support.js";
import { Balancer } from "./fault-balancer.js";
import { httpOperation } from "./fault-clients.js";
import { badStatuses, FAULT_ROOM_SOURCE, Ledger } from "./fault-ledger.js";
import { SocketClient } from "./fault-clients.js";

const ROOMS = Array.from({ length: 12 }, (_, i) => `rb-${i}`);
/** The fault test's room, hibernating: an instance is dropped 300 ms after its last event (--hibernate-after). */
const SOURCE = FAULT_ROOM_SOURCE.replace("implements Party.Server {", "implements Party.Server {\n  readonly options = { hibernate: true };");

test("a node restarted after a kill gets its rooms back: every room is owned by the node its clients reach within 15 s", { timeout: 120_000 }, async () => {
  const db = await createTestDatabase();
  databases.push(db);
  const slots: Array<{ name: string; port: number; adminPort: number; node?: Node }> = [];
  for (const name of ["n0", "n1", "n2"]) slots.push({ name, port: await freePort(), adminPort: await freePort() });
  const start = (slot: (typeof slots)[number]) =>
    startNode(slot.name, db.url, slot.port, ["--admin-port", String(slot.adminPort), "--hibernate-after", "300"], SOURCE).then((node) => (slot.node = node));
  await Promise.all(slots.map(start));
  await sleep((LEASE_MS / 5) * 2 + 100);
  const balancer = await Balancer.start(slots.map(({ name, port, adminPort }) => ({ name, port, adminPort })));
  const ledger = new Ledger();
  let running = true;
  const loop = async (room: string, pauseMs: number) => {
    for (let seq = 0; running; seq++) {
      await httpOperation(ledger, balancer.port, room, seq % 2 === 0 ? "incr" : "read", `${room}-${seq}`);
      await sleep(pauseMs);
    }
  };
  const loops = ROOMS.map((room) => loop(room, 150));
  let socket: SocketClient | undefined;
  try {
    /** The node each room last answered from, among answers since `since`. */
    const latest = (since: number) => {
      const byRoom = new Map<string, string>();
      for (const entry of ledger.done) if (entry.doneAt > since) byRoom.set(entry.room, entry.node);
      return byRoom;
    };
    const owners = async () => {
      const client = new pg.Client(db.url);
      await client.connect();
      try {
        const { rows } = await client.query<{ room: string; owner_node: string | null }>("SELECT room, owner_node FROM ph_rooms WHERE room LIKE 'rb-%'");
        return new Map(rows.map((row) => [row.room, slots.find((slot) => `127.0.0.1:${slot.port}` === row.owner_node)?.name ?? null]));
      } finally {
        await client.end();
      }
    };
    const began = Date.now();
    assert.ok(await waitFor(() => ROOMS.every((room) => latest(began).has(room)), 15_000), "every room answers");
    const before = await owners();
    const victim = slots.find((slot) => [...before.values()].filter((owner) => owner === slot.name).length >= 2) ?? slots[0]!;
    const victimRooms = ROOMS.filter((room) => before.get(room) === victim.name);
    assert.ok(victimRooms.length >= 2, `${victim.name} owns rooms: ${JSON.stringify(Object.fromEntries(before))}`);

    // A hibernating room with an idle socket, whose clients the balancer sends to the victim:
    // the socket moves to another node with the kill, and must come back.
    const socketRoom = Array.from({ length: 100 }, (_, i) => `rb-ws-${i}`).find((room) => balancer.order(`/parties/main/${room}`)[0]!.name === victim.name)!;
    socket = new SocketClient(ledger, balancer.address, socketRoom, "watcher");
    assert.ok(await waitFor(() => socket!.opens === 1, 5_000), "the socket opened");
    // Asked now and then (every second), so it hibernates in between.
    loops.push(loop(socketRoom, 1_000));
    await sleep(1_000);
    assert.equal((await owners()).get(socketRoom), victim.name);

    await victim.node!.server.stop("SIGKILL");
    const killed = Date.now();
    // Its rooms fail over (lease 3 s): every room answers again, none from the victim.
    assert.ok(
      await waitForAsync(async () => {
        const now = await owners();
        const answered = latest(Date.now() - 1_000);
        return victimRooms.every((room) => now.get(room) !== victim.name && now.get(room) !== null) && ROOMS.every((room) => answered.has(room));
      }, 15_000),
      `the victim's rooms moved to the other nodes: ${JSON.stringify(Object.fromEntries(await owners()))}`,
    );
    const movedAfter = Date.now() - killed;

    await start(victim);
    const restarted = Date.now();
    // The balancer sends the victim's rooms' clients back to it once its /readyz answers; their
    // owners hand the rooms over after a window in which every client came through it.
    const back = await waitForAsync(async () => {
      const now = await owners();
      return [...victimRooms, socketRoom].every((room) => now.get(room) === victim.name);
    }, 15_000);
    const rebalancedAfter = Date.now() - restarted;
    const after = await owners();
    if (!back) for (const slot of slots) console.log(slot.name, slot.node!.server.output().split("\n").filter((line) => /handed|handing/.test(line)).join("\n"));
    assert.ok(back, `every room of ${victim.name} is its again: ${JSON.stringify(Object.fromEntries(after))}`);
    // And the answers come from the node the balancer picked.
    const settled = Date.now();
    await sleep(1_500);
    const recent = ledger.done.filter((entry) => entry.doneAt > settled && [...victimRooms, socketRoom].includes(entry.room));
    assert.ok(recent.length > 0 && recent.every((entry) => entry.node === victim.name), "answered by the returned node");
    // The socket: on the victim, moved away by the kill, moved back by the hand-off (1012).
    assert.ok(await waitFor(() => socket!.opens >= 3 && socket!.socket.readyState === 1, 5_000), `the socket reconnected: ${socket.opens} opens`);
    assert.ok(await socket.operation("read", 5_000), "and answers");
    assert.equal(ledger.done.filter((entry) => entry.via === "ws").at(-1)?.node, victim.name, "from the room on the returned node");
    assert.deepEqual(badStatuses(ledger.statuses), [], "only 2xx or 503 + Retry-After");
    // Every other room stayed where it was.
    for (const room of ROOMS.filter((r) => !victimRooms.includes(r))) assert.equal(after.get(room), before.get(room), `${room} stayed`);
    console.log(
      `# ${victim.name}'s ${victimRooms.length} rooms and a hibernating room with a socket: moved ${movedAfter} ms after its SIGKILL; back on it ${rebalancedAfter} ms after its restart (window ${LEASE_MS / 2} ms); socket closes ${JSON.stringify(Object.fromEntries(ledger.closeCodes))}`,
    );
  } finally {
    running = false;
    socket?.close();
    await Promise.all(loops);
    await balancer.close();
  }
});
