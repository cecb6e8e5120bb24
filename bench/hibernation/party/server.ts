// The hibernating room the hibernation bench measures (bench/hibernation/run.ts). It behaves like
// bench/party/server.ts (echo, and `bcast:` to the whole room, so bench/servers/bare.ts is its bare
// twin) and adds what the bench needs to prove that a room really hibernated: counts of instances
// built and of instances still in memory, readable without waking any room (static onFetch).
import type * as Party from "partykit/server";
import { serialize, writeHeapSnapshot } from "node:v8";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Only rooms with this prefix are counted: the idle-rooms figure creates 20k "fresh-" rooms, and
 * counting those would add this file's own bookkeeping to the per-room cost.
 */
const TRACKED = "hib-";

const built = new Map<string, number>();
const live = new Map<string, number>();
// Runs some time after a GC collected an instance: proof that hibernation released it.
const collected = new FinalizationRegistry<string>((room) => live.set(room, (live.get(room) ?? 1) - 1));

/**
 * Every socket of an idle room carries a state whose serialized form is exactly STATE_BYTES
 * (issue 23: "a hibernated idle socket with a 100-byte state"), set in onConnect like a real
 * room's user name and cursor; hibernation keeps it across the instance's eviction.
 */
export const STATE_BYTES = 100;
const STATE = { user: "" };
STATE.user = "u".repeat(STATE_BYTES - serialize(STATE).length);
if (serialize(STATE).length !== STATE_BYTES) throw new Error("the bench state is not 100 bytes");

export default class HibernatingBench implements Party.Server {
  readonly options = { hibernate: true };
  /** Messages this instance has handled; 0 means the message in hand is what woke the room. */
  private handled = 0;

  constructor(readonly room: Party.Room) {
    if (!room.id.startsWith(TRACKED)) return;
    built.set(room.id, (built.get(room.id) ?? 0) + 1);
    live.set(room.id, (live.get(room.id) ?? 0) + 1);
    collected.register(this, room.id);
  }

  /** Trivial on purpose: the wake figure is partyhouse's own cost of rebuilding a room. */
  onStart(): void {}

  /** Each socket gets its own copy of the 100-byte state (a distinct string, as user data would be). */
  onConnect(connection: Party.Connection): void {
    if (this.room.id.startsWith(TRACKED)) connection.setState({ user: `${connection.id}${STATE.user}`.slice(0, STATE.user.length) });
  }

  onMessage(message: string | ArrayBuffer | ArrayBufferView, sender: Party.Connection): void {
    const wokeUs = this.handled++ === 0;
    if (typeof message !== "string") return sender.send(message);
    if (message.startsWith("bcast:")) return this.room.broadcast(message);
    // The wake load learns per sample whether it found the room hibernated; bare echoes plainly.
    sender.send(wokeUs && message.startsWith("wake:") ? `${message}:cold` : message);
  }

  /** `…/__bench/wake`: the request itself wakes the room; says which instance this is and what it sees. */
  onRequest(): Response {
    let connections = 0;
    for (const _ of this.room.getConnections()) connections++;
    return Response.json({ built: built.get(this.room.id) ?? 0, connections });
  }

  /** `/__bench/memory?room=<id>`: heap after a full GC and the room's instance counts; no room is touched. */
  static onFetch(req: Party.Request): Response | null {
    const url = new URL(req.url);
    // A heap snapshot of the server, for finding where the bytes per socket are (bench README).
    if (url.pathname === "/__bench/heapsnapshot") {
      return Response.json({ file: writeHeapSnapshot(join(url.searchParams.get("dir") ?? tmpdir(), `partyhouse-${Date.now()}.heapsnapshot`)) });
    }
    if (url.pathname !== "/__bench/memory") return null;
    const g = globalThis as { gc?: () => void };
    g.gc?.();
    const room = url.searchParams.get("room") ?? "";
    return Response.json({
      gc: typeof g.gc === "function",
      usage: process.memoryUsage(),
      room: { built: built.get(room) ?? 0, live: live.get(room) ?? 0 },
    });
  }
}
