/**
 * The README's HAProxy config (examples/cluster/haproxy.cfg), run as it is but for addresses and
 * ports, in front of three `partyhouse start --cluster` nodes (issue 19, item 7): with no
 * faults, the rooms spread over the nodes, and at least 95% of requests and WebSockets reach the
 * room's owner directly (the node HAProxy picked, named in `x-lb-server`, ran the room), since a
 * room nobody holds is claimed by the node its first client reached. Skipped, saying so, where
 * HAProxy is not installed. HAProxy listens on 127.0.0.1 only and is ended by its PID.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { WebSocket } from "ws";
import { freePort, repoRoot } from "../../src/cli/test-support.js";
import { createTestDatabase } from "../../src/cluster/test-support.js";
import { databases, LEASE_MS, opened, startNode, waitForAsync, type Node } from "./cluster-support.js";
import { FAULT_ROOM_SOURCE } from "./fault-ledger.js";

const CONFIG = join(repoRoot, "examples/cluster/haproxy.cfg");
const ROOMS = 60;
const REQUESTS_PER_ROOM = 10;
const SOCKET_ROOMS = 20;

/** The config with this test's addresses: HAProxy on 127.0.0.1, one `server` line per node. */
function localConfig(text: string, listen: number, nodes: ReadonlyArray<{ name: string; port: number; adminPort: number }>): string {
  const servers = text.match(/^\s*server .*$/gm) ?? [];
  assert.equal(servers.length, nodes.length, "one server line per node");
  let local = text.replace(/^(\s*bind )\S+/m, `$1127.0.0.1:${listen}`);
  servers.forEach((line, i) => {
    const node = nodes[i]!;
    local = local.replace(line, line.replace(/server \S+ \S+ (.*)port \d+/, `server ${node.name} 127.0.0.1:${node.port} $1port ${node.adminPort}`));
  });
  return local;
}

/** Debian puts haproxy in /usr/sbin, which a non-login PATH may lack. */
function haproxyBinary(): string | undefined {
  return ["haproxy", "/usr/sbin/haproxy"].find((binary) => spawnSync(binary, ["-v"]).status === 0);
}

test("HAProxy with the README's config: rooms spread over the nodes, and at least 95% of traffic reaches the room's owner directly", { timeout: 120_000 }, async (t) => {
  const haproxyPath = haproxyBinary();
  if (haproxyPath === undefined) {
    t.skip("haproxy is not installed (apt-get install haproxy); the README's config is not tested here");
    return;
  }
  const db = await createTestDatabase();
  databases.push(db);
  const slots: Array<{ name: string; port: number; adminPort: number; node?: Node }> = [];
  for (const name of ["n1", "n2", "n3"]) slots.push({ name, port: await freePort(), adminPort: await freePort() });
  await Promise.all(slots.map(async (slot) => (slot.node = await startNode(slot.name, db.url, slot.port, ["--admin-port", String(slot.adminPort)], FAULT_ROOM_SOURCE))));
  // Two renewals: every node knows every other.
  await sleep((LEASE_MS / 5) * 2 + 100);

  const listen = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "partyhouse-haproxy-"));
  writeFileSync(join(dir, "haproxy.cfg"), localConfig(readFileSync(CONFIG, "utf8"), listen, slots));
  const checked = spawnSync(haproxyPath, ["-c", "-f", join(dir, "haproxy.cfg")], { encoding: "utf8" });
  assert.equal(checked.status, 0, checked.stdout + checked.stderr);
  let haproxy: ChildProcess | undefined;
  const end = () => haproxy?.kill("SIGKILL");
  process.once("exit", end);
  try {
    let output = "";
    // -db: in the foreground, so it is this test's child and ends with it.
    haproxy = spawn(haproxyPath, ["-db", "-f", join(dir, "haproxy.cfg")], { stdio: ["ignore", "pipe", "pipe"] });
    haproxy.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    haproxy.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const base = `http://127.0.0.1:${listen}/parties/main`;
    assert.ok(
      await waitForAsync(async () => (await fetch(`${base}/probe`).then((response) => response.ok).catch(() => false)), 10_000),
      `HAProxy answers:\n${output}`,
    );

    let direct = 0;
    let total = 0;
    const count = (lb: string | null, node: string) => {
      total++;
      if (lb === node) direct++;
    };
    const rooms = Array.from({ length: ROOMS }, (_, i) => `hp-${i}`);
    // Ten rooms at a time, each asked REQUESTS_PER_ROOM times (increments and reads).
    for (let i = 0; i < rooms.length; i += 10) {
      await Promise.all(
        rooms.slice(i, i + 10).map(async (room) => {
          for (let k = 0; k < REQUESTS_PER_ROOM; k++) {
            // Every third read to a path below the room's: it must hash like the room's own.
            const path = k % 6 === 5 ? `${room}/items/${k}` : room;
            const response = await fetch(`${base}/${path}?id=${room}-${k}`, { method: k % 2 === 0 ? "POST" : "GET", signal: AbortSignal.timeout(10_000) });
            assert.equal(response.status, 200, await response.clone().text());
            const answer = (await response.json()) as { node: string; lb: string | null };
            count(answer.lb, answer.node);
          }
        }),
      );
    }
    // WebSockets to rooms already placed and to new ones: the handshake goes where the hash says.
    const sockets = await Promise.all(
      Array.from({ length: SOCKET_ROOMS }, async (_, i) => {
        const ws = new WebSocket(`ws://127.0.0.1:${listen}/parties/main/${i % 2 === 0 ? rooms[i]! : `hp-ws-${i}`}`);
        const hello = new Promise<{ node: string; lb: string | null }>((resolve) => ws.once("message", (data) => resolve(JSON.parse(String(data)))));
        await opened(ws);
        const answer = await hello;
        count(answer.lb, answer.node);
        return ws;
      }),
    );
    for (const ws of sockets) ws.close();

    const client = new pg.Client(db.url);
    await client.connect();
    const { rows } = await client.query<{ owner_node: string; rooms: string }>(
      "SELECT owner_node, count(*) AS rooms FROM ph_rooms WHERE room LIKE 'hp-%' GROUP BY owner_node",
    );
    await client.end();
    const perNode = Object.fromEntries(slots.map((slot) => [slot.name, Number(rows.find((row) => row.owner_node === `127.0.0.1:${slot.port}`)?.rooms ?? 0)]));
    const share = direct / total;
    console.log(`# HAProxy ${spawnSync(haproxyPath, ["-v"], { encoding: "utf8" }).stdout.split("\n")[0]}`);
    console.log(`# reached the room's owner directly: ${direct} of ${total} (${(share * 100).toFixed(1)}%); rooms per node ${JSON.stringify(perNode)}`);
    assert.ok(share >= 0.95, `direct share ${(share * 100).toFixed(1)}%`);
    // A hash that stopped at /parties/:party would put every room on one node.
    for (const [name, owned] of Object.entries(perNode)) assert.ok(owned >= (ROOMS + SOCKET_ROOMS / 2) / 10, `${name} owns ${owned} rooms`);
  } finally {
    if (haproxy && haproxy.exitCode === null && haproxy.signalCode === null) {
      const exited = new Promise((resolve) => haproxy!.once("exit", resolve));
      end();
      await exited;
    }
    process.removeListener("exit", end);
    rmSync(dir, { recursive: true, force: true });
  }
});
