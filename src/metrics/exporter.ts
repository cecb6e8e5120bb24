/**
 * Prometheus metrics (prom-client) for one partyhouse server. Everything the runtime counts,
 * HTTP responses included, lives in plain numbers (counters.ts) and live counts are read from
 * the rooms, both only when /metrics is scraped; only rare events (a room starting, a group
 * commit) are observed as they happen. Labels are per party, never per room, so the number of
 * series stays bounded whatever clients do.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { CommitObservation } from "../storage/contract.js";
import type { PartyCounters, ResponseCounts, RuntimeCounters } from "./counters.js";

/** Live counts of one party's rooms, read at scrape time. */
export interface PartyRoomCounts {
  /** Rooms in memory (with sockets, or active recently). */
  readonly known: number;
  /** Rooms whose server instance is in memory. */
  readonly resident: number;
  /** Rooms whose instance was dropped while their sockets stay open. */
  readonly hibernated: number;
  readonly sockets: number;
}

export interface MetricsSources {
  /** Party name to its live counts; every party of the project, even without rooms. */
  roomCounts(): Iterable<[string, PartyRoomCounts]>;
  readonly counters: RuntimeCounters;
  observeCommits(observer: (commit: CommitObservation) => void): () => void;
}

const PREFIX = "partyhouse_";

export class PartyhouseMetrics {
  readonly registry = new Registry();
  private readonly stopObservingCommits: () => void;

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    const liveGauge = (name: string, help: string, pick: (counts: PartyRoomCounts) => number) =>
      new Gauge({
        name: PREFIX + name,
        help,
        labelNames: ["party"],
        registers,
        collect() {
          this.reset();
          for (const [party, counts] of sources.roomCounts()) this.set({ party }, pick(counts));
        },
      });
    liveGauge("rooms", "Rooms in memory: with sockets, or active in the last seconds (known to the process).", (c) => c.known);
    liveGauge("rooms_resident", "Rooms whose server instance is in memory.", (c) => c.resident);
    liveGauge("rooms_hibernated", "Hibernating rooms whose instance was evicted while their sockets stay open.", (c) => c.hibernated);
    liveGauge("sockets_open", "Open room WebSockets.", (c) => c.sockets);

    const partyCounter = (name: string, help: string, pick: (counters: PartyCounters) => number) =>
      new Counter({
        name: PREFIX + name,
        help,
        labelNames: ["party"],
        registers,
        collect() {
          this.reset();
          for (const [party, counters] of sources.counters.entries()) this.inc({ party }, pick(counters));
        },
      });
    partyCounter("connects_total", "WebSocket connections accepted into a room.", (c) => c.connects);
    partyCounter("disconnects_total", "Room WebSockets closed, by either side.", (c) => c.disconnects);
    partyCounter("messages_in_total", "WebSocket messages received from clients.", (c) => c.messagesIn);
    partyCounter("message_bytes_in_total", "Payload bytes of WebSocket messages received.", (c) => c.bytesIn);
    partyCounter("messages_out_total", "WebSocket messages written to clients (a broadcast counts once per recipient).", (c) => c.messagesOut);
    partyCounter("message_bytes_out_total", "Bytes written to clients in WebSocket frames (headers included).", (c) => c.bytesOut);
    partyCounter("alarms_fired_total", "onAlarm runs, retries included.", (c) => c.alarmsFired);
    partyCounter("alarms_retried_total", "onAlarm runs that were retries of a throwing onAlarm.", (c) => c.alarmsRetried);

    new Counter({
      name: PREFIX + "handler_errors_total",
      help: "Exceptions thrown by user handlers, by handler (onMessage, onConnect, onRequest, onAlarm, ...).",
      labelNames: ["party", "handler"],
      registers,
      collect() {
        this.reset();
        for (const [party, counters] of sources.counters.entries()) {
          for (const [handler, count] of counters.handlerErrors) this.inc({ party, handler }, count);
        }
      },
    });

    new Counter({
      name: PREFIX + "http_requests_total",
      help: 'HTTP responses on the public port by status class (2xx, 3xx, 4xx, 5xx); party="" when no party was addressed.',
      labelNames: ["party", "status_class"],
      registers,
      collect() {
        this.reset();
        const add = (party: string, responses: ResponseCounts) =>
          responses.byClass.forEach((count, index) => {
            if (count > 0) this.inc({ party, status_class: `${index + 1}xx` }, count);
          });
        for (const [party, counters] of sources.counters.entries()) add(party, counters.responses);
        add("", sources.counters.unroutedResponses);
      },
    });

    const roomStarts = new Histogram({
      name: PREFIX + "room_start_seconds",
      help: 'Time to build a room instance and run onStart; kind="wake" after hibernation (wake latency), "cold" otherwise.',
      labelNames: ["party", "kind"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    sources.counters.onRoomStart = (party, seconds, woke) => roomStarts.observe({ party, kind: woke ? "wake" : "cold" }, seconds);

    const commitSeconds = new Histogram({
      name: PREFIX + "storage_commit_seconds",
      help: "Duration of one durable group commit (all rooms that wrote in one turn).",
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    const commitRooms = new Histogram({
      name: PREFIX + "storage_commit_rooms",
      help: "Rooms per group commit (batch size).",
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers,
    });
    const commitKeys = new Histogram({
      name: PREFIX + "storage_commit_keys",
      help: "Keys put or deleted per group commit.",
      buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000, 10000],
      registers,
    });
    const commitFailures = new Counter({
      name: PREFIX + "storage_commit_failures_total",
      help: "Group commits the engine failed (their rooms were reset).",
      registers,
    });
    this.stopObservingCommits = sources.observeCommits((commit) => {
      if (!commit.ok) {
        commitFailures.inc();
        return;
      }
      commitSeconds.observe(commit.seconds);
      commitRooms.observe(commit.rooms);
      commitKeys.observe(commit.keys);
    });
  }

  /** The exposition text for a scrape. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.stopObservingCommits();
    this.sources.counters.onRoomStart = undefined;
    this.registry.clear();
  }
}
