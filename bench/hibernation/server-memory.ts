// Reading a server's memory from outside: V8 heap after a full GC (asked of the server itself, the
// stable figure), RSS of its process tree from /proc, and on partyhouse whether a room's instance is
// still in memory. Also how many files the server holds, to wait for closed sockets to be gone.
import { readdirSync } from "node:fs";
import { rssBytes } from "../lib/proc-stats.js";
import { sleep } from "../lib/clock.js";
import type { RunningServer } from "../servers/server-handle.js";
import { MEMORY_PATH } from "./servers.js";

export interface MemoryReading {
  heapUsed: number;
  rss: number;
}

interface MemoryAnswer {
  gc?: boolean;
  usage?: { heapUsed?: number };
  room?: { built: number; live: number };
}

async function ask(server: RunningServer, room = ""): Promise<MemoryAnswer> {
  const res = await fetch(`http://${server.host}:${server.port}${MEMORY_PATH}?room=${encodeURIComponent(room)}`);
  if (!res.ok) throw new Error(`${server.name}: ${MEMORY_PATH} answered ${res.status}`);
  return (await res.json()) as MemoryAnswer;
}

/** Heap after GC and tree RSS. Asked twice: what the first GC leaves to finalizers goes in the second. */
export async function readMemory(server: RunningServer): Promise<MemoryReading> {
  await ask(server);
  const answer = await ask(server);
  if (answer.gc !== true || typeof answer.usage?.heapUsed !== "number") {
    throw new Error(`${server.name} cannot GC on request (started without --expose-gc?)`);
  }
  return { heapUsed: answer.usage.heapUsed, rss: rssBytes(server.tree()) };
}

/**
 * Waits until partyhouse's `room` has no instance left in memory after a GC (its finalizer ran),
 * i.e. it hibernated and the instance was collected. Returns how many instances it has built, and when.
 */
export async function waitHibernated(server: RunningServer, room: string, timeoutMs = 5000): Promise<{ built: number; at: number }> {
  const started = Date.now();
  for (;;) {
    const { room: counts } = await ask(server, room);
    if (counts && counts.built > 0 && counts.live === 0) return { built: counts.built, at: Date.now() };
    if (Date.now() - started > timeoutMs) {
      throw new Error(`room ${room} did not hibernate within ${timeoutMs} ms (instances: ${JSON.stringify(counts)})`);
    }
    await sleep(50);
  }
}

/** Instances `room` has built so far (each wake builds one). */
export async function instancesBuilt(server: RunningServer, room: string): Promise<number> {
  return (await ask(server, room)).room?.built ?? 0;
}

/** Open file descriptors of the server process (its sockets, mostly). */
export function openFiles(server: RunningServer): number {
  try {
    return readdirSync(`/proc/${server.pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** Waits until the server holds at most `limit` files: sockets of a finished figure are closed. */
export async function waitFilesBelow(server: RunningServer, limit: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (openFiles(server) > limit) {
    if (Date.now() > deadline) throw new Error(`${server.name} still holds ${openFiles(server)} files after ${timeoutMs} ms`);
    await sleep(100);
  }
}
