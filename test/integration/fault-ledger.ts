/**
 * The fault test's ledger (not a test file itself): what clients were told, and the checks
 * that hold it against what PostgreSQL stored and what the nodes logged. Kept apart from the
 * clients so the checks can be tested on made-up histories (fault-ledger.test.ts): each must be
 * able to fail.
 *
 * Every room keeps a counter that clients raise by read-modify-write (`incr`) and read
 * (`read`), over HTTP and over WebSockets. An increment to n also stores `inc:<n>` = the
 * request's id, an append-only log of who got which number. A client records a write as
 * acknowledged only when the response or reply that followed it arrived (the output gate
 * released it), with the number the room gave it.
 */

/** The room every node runs (a partykit.json project's server.ts). */
export const FAULT_ROOM_SOURCE = `
import type * as Party from "partykit/server";

export default class FaultRoom implements Party.Server {
  readonly instance = Math.random().toString(36).slice(2, 10);
  constructor(readonly room: Party.Room) {}
  onStart() {
    // The instance's start, by the wall clock every process on this machine shares.
    console.log(JSON.stringify({ faultStart: this.room.id, instance: this.instance, node: String(this.room.env.NODE), t: Date.now() }));
  }
  private async apply(op: string, id: string) {
    const t = Date.now();
    let n = (await this.room.storage.get<number>("counter")) ?? 0;
    if (op === "incr") {
      n += 1;
      // One event's writes commit together.
      await this.room.storage.put({ counter: n, ["inc:" + n]: id });
    }
    return { op, id, n, instance: this.instance, node: String(this.room.env.NODE), t };
  }
  async onRequest(req: Party.Request) {
    const params = new URL(req.url).searchParams;
    if (params.has("spin")) {
      // Holds the node's event loop from a timer (the phase before I/O), so a stop can land
      // while user code runs there; says when it begins.
      const ms = Number(params.get("spin"));
      setTimeout(() => {
        console.log(JSON.stringify({ spinStart: this.room.id }));
        const until = Date.now() + ms;
        while (Date.now() < until) {}
      }, 0);
      return new Response("spinning soon");
    }
    const op = req.method === "POST" ? "incr" : "read";
    return Response.json({ ...(await this.apply(op, params.get("id") ?? "")), lb: req.headers.get("x-lb-server") });
  }
  onConnect(connection: Party.Connection, ctx: Party.ConnectionContext) {
    const lb = ctx.request.headers.get("x-lb-server");
    connection.send(JSON.stringify({ op: "hello", instance: this.instance, node: String(this.room.env.NODE), lb }));
  }
  async onMessage(message: string | ArrayBuffer, connection: Party.Connection) {
    const { op, id } = JSON.parse(String(message)) as { op: string; id: string };
    connection.send(JSON.stringify(await this.apply(op, id)));
  }
}
`;

/** What the room answered to one operation. */
export interface RoomAnswer {
  readonly op: "incr" | "read";
  readonly id: string;
  readonly n: number;
  readonly instance: string;
  readonly node: string;
  /** When the room began the event (wall clock). */
  readonly t: number;
}

/** An operation whose answer arrived: an acknowledged increment, or a read. */
export interface Done extends RoomAnswer {
  readonly room: string;
  readonly via: "http" | "ws";
  readonly sentAt: number;
  readonly doneAt: number;
}

/** An HTTP status a client saw (a response, or a refused WebSocket upgrade). */
export interface Status {
  readonly via: "http" | "ws";
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly at: number;
}

/** An instance's start, from the nodes' output. */
export interface Started {
  readonly room: string;
  readonly instance: string;
  readonly node: string;
  readonly t: number;
}

export class Ledger {
  readonly done: Done[] = [];
  readonly statuses: Status[] = [];
  /** Requests that got no HTTP answer at all (refused, reset), by when. */
  readonly transportErrors: Array<{ via: "http" | "ws"; at: number; message: string }> = [];
  /** WebSocket close codes clients saw. */
  readonly closeCodes = new Map<number, number>();
  /** Answers (and WebSocket greetings) from a room on the node the balancer picked, and from one further. */
  reachedOwner = 0;
  forwarded = 0;

  /** `lb`: the server the balancer picked (x-lb-server); `node`: where the room ran. */
  direct(lb: string | null, node: string): void {
    if (lb === node) this.reachedOwner++;
    else this.forwarded++;
  }

  get acks(): Done[] {
    return this.done.filter((entry) => entry.op === "incr");
  }

  closed(code: number): void {
    this.closeCodes.set(code, (this.closeCodes.get(code) ?? 0) + 1);
  }
}

/** `{ faultStart }` lines of every node's output, including nodes that were killed. */
export function instanceStarts(outputs: readonly string[]): Started[] {
  const started: Started[] = [];
  for (const output of outputs) {
    for (const match of output.matchAll(/\{"faultStart":.*\}/g)) {
      const line = JSON.parse(match[0]) as { faultStart: string; instance: string; node: string; t: number };
      started.push({ room: line.faultStart, instance: line.instance, node: line.node, t: line.t });
    }
  }
  return started;
}

/** Answers other than 2xx (and 101), or 503 with Retry-After. */
export function badStatuses(statuses: readonly Status[]): Status[] {
  return statuses.filter(
    (entry) => !((entry.status >= 200 && entry.status < 300) || entry.status === 101 || (entry.status === 503 && entry.retryAfter !== undefined)),
  );
}

/**
 * Acknowledged writes PostgreSQL does not have: `inc:<n>` must hold the id the client was
 * acknowledged for, and the counter must be at least n. `stored`: room → key → value.
 */
export function lostWrites(acks: readonly Done[], stored: ReadonlyMap<string, ReadonlyMap<string, unknown>>): Done[] {
  return acks.filter((ack) => {
    const keys = stored.get(ack.room);
    return keys?.get(`inc:${ack.n}`) !== ack.id || Number(keys?.get("counter") ?? 0) < ack.n;
  });
}

/** Two acknowledgements of the same number in one room: two instances raised the same counter. */
export function duplicateAcks(acks: readonly Done[]): Array<[Done, Done]> {
  const seen = new Map<string, Done>();
  const duplicates: Array<[Done, Done]> = [];
  for (const ack of acks) {
    const key = `${ack.room}\0${ack.n}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, ack);
    else duplicates.push([first, ack]);
  }
  return duplicates;
}

/**
 * Stale reads: an operation sent after a client was acknowledged n that answers an older value.
 * A read must see at least n; an increment must answer more than n (else it did not see n: a
 * lost update).
 */
export function staleReads(done: readonly Done[]): Array<{ entry: Done; newestAcked: number }> {
  const stale: Array<{ entry: Done; newestAcked: number }> = [];
  const byRoom = new Map<string, Done[]>();
  for (const entry of done) byRoom.set(entry.room, [...(byRoom.get(entry.room) ?? []), entry]);
  for (const entries of byRoom.values()) {
    const acks = entries.filter((entry) => entry.op === "incr").sort((a, b) => a.doneAt - b.doneAt);
    // The highest number acknowledged by each acknowledgement time (running maximum).
    const times: number[] = [];
    const highest: number[] = [];
    for (const ack of acks) {
      times.push(ack.doneAt);
      highest.push(Math.max(ack.n, highest.at(-1) ?? 0));
    }
    for (const entry of entries) {
      const newestAcked = highestBefore(times, highest, entry.sentAt);
      if (entry.op === "read" ? entry.n < newestAcked : entry.n <= newestAcked) stale.push({ entry, newestAcked });
    }
  }
  return stale;
}

/** The running maximum at the last time strictly before `at` (binary search), 0 if none. */
function highestBefore(times: readonly number[], highest: readonly number[], at: number): number {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (times[middle]! < at) low = middle + 1;
    else high = middle;
  }
  return low === 0 ? 0 : highest[low - 1]!;
}

export interface Overlap {
  readonly room: string;
  /** The instance that still answered after the next one started. */
  readonly earlier: { instance: string; node: string; lastEventAt: number };
  readonly later: { instance: string; node: string; startedAt: number };
}

/**
 * Overlapping instances of one room: an instance that began an event (that a client saw the
 * answer of) after a later instance of the same room had started. Starts come from the
 * instances' own onStart lines; an instance seen only in answers starts at its first event.
 */
export function overlaps(done: readonly Done[], starts: readonly Started[]): Overlap[] {
  interface Life {
    room: string;
    instance: string;
    node: string;
    start: number;
    last: number;
  }
  const lives = new Map<string, Life>();
  for (const start of starts) lives.set(`${start.room}\0${start.instance}`, { ...start, start: start.t, last: start.t });
  for (const entry of done) {
    const key = `${entry.room}\0${entry.instance}`;
    const life = lives.get(key);
    if (life === undefined) lives.set(key, { room: entry.room, instance: entry.instance, node: entry.node, start: entry.t, last: entry.t });
    else {
      life.start = Math.min(life.start, entry.t);
      life.last = Math.max(life.last, entry.t);
    }
  }
  const found: Overlap[] = [];
  const byRoom = new Map<string, Life[]>();
  for (const life of lives.values()) byRoom.set(life.room, [...(byRoom.get(life.room) ?? []), life]);
  for (const [room, list] of byRoom) {
    for (const earlier of list) {
      for (const later of list) {
        if (later === earlier || later.start <= earlier.start) continue;
        if (earlier.last > later.start) {
          found.push({
            room,
            earlier: { instance: earlier.instance, node: earlier.node, lastEventAt: earlier.last },
            later: { instance: later.instance, node: later.node, startedAt: later.start },
          });
        }
      }
    }
  }
  return found;
}

/**
 * The longest time any room went without an acknowledged write, over the stretch from `from`
 * to `to` (a fault and the recovery after it), counting on to the room's first acknowledgement
 * after `to`: how long fail-over kept writes waiting.
 */
export function longestAckGap(acks: readonly Done[], rooms: readonly string[], from: number, to: number): number {
  let longest = 0;
  for (const room of rooms) {
    const times = acks.filter((ack) => ack.room === room).map((ack) => ack.doneAt).sort((a, b) => a - b);
    const points = [from, ...times.filter((time) => time > from && time <= to), times.find((time) => time > to) ?? to];
    for (let i = 1; i < points.length; i++) longest = Math.max(longest, points[i]! - points[i - 1]!);
  }
  return longest;
}
