/**
 * Cluster mode (issue 19, item 5): rooms rebalance when a node returns. Three nodes behind a
 * balancer that hashes the room path over the nodes whose /readyz answers (fault-balancer.ts,
 * as the README's HAProxy config does), HTTP clients on twelve rooms. SIGKILL one node: its
 * rooms move to the others (the balancer sends their clients there). Restart it: the balancer
 * sends those clients back to it, it forwards them to the rooms' owners, and each owner, seeing
 * all of a room's clients arrive through that node, hands the room to it. Within a bounded time
 * every room is owned by the node its clients reach, and answers come from there directly.
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

const ROOMS = Array.from({ length: 12 }, (_, i) => `rb-${i}`);

test("a node restarted after a kill gets its rooms back: every room is owned by the node its clients reach within 10 s", { timeout: 120_000 }, async () => {
  const db = await createTestDatabase();
  databases.push(db);
  const slots: Array<{ name: string; port: number; adminPort: number; node?: Node }> = [];
  for (const name of ["n0", "n1", "n2"]) slots.push({ name, port: await freePort(), adminPort: await freePort() });
  const start = (slot: (typeof slots)[number]) =>
    startNode(slot.name, db.url, slot.port, ["--admin-port", String(slot.adminPort)], FAULT_ROOM_SOURCE).then((node) => (slot.node = node));
  await Promise.all(slots.map(start));
  await sleep((LEASE_MS / 5) * 2 + 100);
  const balancer = await Balancer.start(slots.map(({ name, port, adminPort }) => ({ name, port, adminPort })));
  const ledger = new Ledger();
  let running = true;
  const loops = ROOMS.map(async (room) => {
    for (let seq = 0; running; seq++) {
      await httpOperation(ledger, balancer.port, room, seq % 2 === 0 ? "incr" : "read", `${room}-${seq}`);
      await sleep(150);
    }
  });
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
    assert.ok(await waitFor(() => latest(began).size === ROOMS.length, 15_000), "every room answers");
    const before = await owners();
    const victim = slots.find((slot) => [...before.values()].filter((owner) => owner === slot.name).length >= 2) ?? slots[0]!;
    const victimRooms = ROOMS.filter((room) => before.get(room) === victim.name);
    assert.ok(victimRooms.length >= 2, `${victim.name} owns rooms: ${JSON.stringify(Object.fromEntries(before))}`);

    await victim.node!.server.stop("SIGKILL");
    const killed = Date.now();
    // Its rooms fail over (lease 3 s): every room answers again, none from the victim.
    assert.ok(
      await waitForAsync(async () => {
        const now = await owners();
        return victimRooms.every((room) => now.get(room) !== victim.name && now.get(room) !== null) && latest(Date.now() - 1_000).size === ROOMS.length;
      }, 15_000),
      "the victim's rooms moved to the other nodes",
    );
    const movedAfter = Date.now() - killed;

    await start(victim);
    const restarted = Date.now();
    // The balancer sends the victim's rooms' clients back to it once its /readyz answers; their
    // owners hand the rooms over after a window in which every client came through it.
    const back = await waitForAsync(async () => {
      const now = await owners();
      return victimRooms.every((room) => now.get(room) === victim.name);
    }, 10_000);
    const rebalancedAfter = Date.now() - restarted;
    const after = await owners();
    assert.ok(back, `every room of ${victim.name} is its again: ${JSON.stringify(Object.fromEntries(after))}`);
    // And the answers come from the node the balancer picked.
    const settled = Date.now();
    await sleep(1_500);
    const recent = ledger.done.filter((entry) => entry.doneAt > settled && victimRooms.includes(entry.room));
    assert.ok(recent.length > 0 && recent.every((entry) => entry.node === victim.name), "answered by the returned node");
    assert.deepEqual(badStatuses(ledger.statuses), [], "only 2xx or 503 + Retry-After");
    // Every other room stayed where it was.
    for (const room of ROOMS.filter((r) => !victimRooms.includes(r))) assert.equal(after.get(room), before.get(room), `${room} stayed`);
    console.log(
      `# ${victim.name}'s ${victimRooms.length} rooms: moved ${movedAfter} ms after its SIGKILL; back on it ${rebalancedAfter} ms after its restart (window ${LEASE_MS / 2} ms)`,
    );
  } finally {
    running = false;
    await Promise.all(loops);
    await balancer.close();
  }
});
