// Server memory per idle socket in one room, read at growing socket counts (1k, 5k, 15k): the
// sockets of a reading stay open and the next reading adds to them, so every reading shares one
// baseline and the slope between readings excludes fixed costs. On partyhouse the room must be
// hibernated at each reading: the bench waits until a GC has collected its instance, and afterwards
// wakes it by request to see that the next instance finds every socket still there.
import { LoadProcess } from "../lib/load-process.js";
import { nowUs, sleep } from "../lib/clock.js";
import type { RunningServer } from "../servers/server-handle.js";
import { MAX_SOCKETS_PER_PROCESS } from "./options.js";
import { readMemory, waitHibernated, type MemoryReading } from "./server-memory.js";
import { slope } from "../lib/stats.js";

export const IDLE_ROOM = "hib-idle";

export interface HibernationCheck {
  /** Instances the room had built when the reading was taken, none of them left in memory. */
  builtBeforeReading: number;
  /** How long after the last socket opened the instance was seen collected (≥ the 500 ms settle). */
  goneAfterMs: number;
  /** The instance number a request built right after the reading: builtBeforeReading + 1 if it was asleep. */
  builtByWake: number;
  /** Connections that woken instance saw: every socket stayed in the front door. */
  connectionsAfterWake: number;
}

export interface MemoryStep {
  sockets: number;
  reading: MemoryReading;
  /** (reading − baseline) / sockets, in bytes. */
  heapPerSocket: number;
  rssPerSocket: number;
  hibernation?: HibernationCheck;
}

export interface IdleMemory {
  before: MemoryReading;
  steps: MemoryStep[];
  /** Least-squares bytes per added socket over the readings. */
  heapSlope: number;
  rssSlope: number;
}

export async function idleSocketMemory(server: RunningServer, steps: number[], log: (line: string) => void): Promise<IdleMemory> {
  const before = await readMemory(server);
  const loads: LoadProcess[] = [];
  const out: MemoryStep[] = [];
  try {
    let held = 0;
    for (const target of steps) {
      for (const sockets of chunks(target - held, MAX_SOCKETS_PER_PROCESS)) {
        const params = { host: server.host, port: server.port, sockets, room: IDLE_ROOM };
        loads.push(await LoadProcess.start(`${server.name} idle ${loads.length}`, "ws-idle", params));
      }
      held = target;
      const open = await countOpen(loads);
      const openedAt = Date.now();
      if (open !== target) throw new Error(`${server.name}: ${open} of ${target} idle sockets open`);
      await sleep(500); // per-connection work finishes, and partyhouse's room has time to fall asleep
      const asleep = server.name === "partyhouse" ? await waitHibernated(server, IDLE_ROOM) : undefined;
      const reading = await readMemory(server);
      const step: MemoryStep = {
        sockets: open,
        reading,
        heapPerSocket: (reading.heapUsed - before.heapUsed) / open,
        rssPerSocket: (reading.rss - before.rss) / open,
      };
      if (asleep) step.hibernation = { builtBeforeReading: asleep.built, goneAfterMs: asleep.at - openedAt, ...(await wake(server)) };
      out.push(step);
      log(`  memory ${server.name} ${open} sockets: heap ${(step.heapPerSocket / 1024).toFixed(2)} KiB/socket, rss ${(step.rssPerSocket / 1024).toFixed(2)} KiB/socket${step.hibernation ? `, hibernated ${JSON.stringify(step.hibernation)}` : ""}`);
    }
  } finally {
    await Promise.all(loads.map((l) => l.stop()));
  }
  const points = out.map((s) => s.sockets);
  return {
    before,
    steps: out,
    heapSlope: slope(points, out.map((s) => s.reading.heapUsed - before.heapUsed)),
    rssSlope: slope(points, out.map((s) => s.reading.rss - before.rss)),
  };
}

/** A request to the hibernated room builds a new instance, which reports what it sees. */
async function wake(server: RunningServer): Promise<{ builtByWake: number; connectionsAfterWake: number }> {
  const res = await fetch(`http://${server.host}:${server.port}/parties/main/${IDLE_ROOM}/__bench/wake`);
  const body = (await res.json()) as { built: number; connections: number };
  return { builtByWake: body.built, connectionsAfterWake: body.connections };
}

async function countOpen(loads: LoadProcess[]): Promise<number> {
  const now = nowUs();
  const counts = await Promise.all(loads.map((l) => l.window({ startUs: now, endUs: now })));
  return counts.reduce((sum, c) => sum + c.ops, 0);
}

/** `total` split into near-equal parts of at most `max`. */
function chunks(total: number, max: number): number[] {
  const parts = Math.ceil(total / max);
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}
