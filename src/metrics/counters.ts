/**
 * What the runtime counts, as plain numbers bumped on the hot paths (a field increment costs
 * nothing measurable beside a socket write); the Prometheus exporter (src/metrics/exporter.ts)
 * reads them only when scraped. Kept per party, never per room, so cardinality stays bounded,
 * and kept by the Project across dev reloads, so counters never go backwards.
 */
export class PartyCounters {
  /** WebSocket upgrades completed into a room. */
  connects = 0;
  /** Room WebSockets that closed, by either side. */
  disconnects = 0;
  messagesIn = 0;
  bytesIn = 0;
  /** Frames written to clients (a broadcast counts once per recipient), and their wire bytes. */
  messagesOut = 0;
  bytesOut = 0;
  /** onAlarm runs, retries included, and those that were retries. */
  alarmsFired = 0;
  alarmsRetried = 0;
  /** Exceptions out of user handlers, by handler (onMessage, onConnect, onAlarm, …). */
  readonly handlerErrors = new Map<string, number>();
  /** HTTP responses sent on the public port for this party, by status class. */
  readonly responses = new ResponseCounts();

  countError(handler: string): void {
    this.handlerErrors.set(handler, (this.handlerErrors.get(handler) ?? 0) + 1);
  }
}

/** Responses by status class: index 0 = 1xx … 4 = 5xx. */
export class ResponseCounts {
  readonly byClass = [0, 0, 0, 0, 0];

  count(status: number): void {
    const index = Math.floor(status / 100) - 1;
    if (index >= 0 && index < 5) this.byClass[index]!++;
  }
}

/** A room built a server instance and its onStart finished. */
export type RoomStartListener = (party: string, seconds: number, woke: boolean) => void;

export class RuntimeCounters {
  private readonly byParty = new Map<string, PartyCounters>();
  /** Responses to requests that addressed no known party (labelled party=""). */
  readonly unroutedResponses = new ResponseCounts();
  /** Set by the metrics exporter; rare events (room starts) go straight to a histogram. */
  onRoomStart: RoomStartListener | undefined;

  party(name: string): PartyCounters {
    let counters = this.byParty.get(name);
    if (counters === undefined) this.byParty.set(name, (counters = new PartyCounters()));
    return counters;
  }

  entries(): IterableIterator<[string, PartyCounters]> {
    return this.byParty.entries();
  }
}
