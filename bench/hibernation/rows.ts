// Turns the measurements of a run into table rows and the notes printed under the table.
import { median } from "../lib/stats.js";
import { pairedRatio, type ScenarioRecord } from "../lib/results.js";
import type { ServerWindows } from "../lib/drive-windows.js";
import type { ServerName } from "../servers/server-handle.js";
import type { WindowedScenario } from "../scenarios/types.js";
import type { IdleMemory } from "./memory.js";
import type { IdleRooms } from "./idle-rooms.js";
import { plainRatio, ratioTarget, type Row } from "./table.js";
import { WAKE_P50_TARGET_MS } from "./wake.js";
import { WAKE_FANOUT_P99_TARGET_MS } from "./wake-fanout.js";

const KiB = 1024;
const GiB = 1024 ** 3;
export const MEMORY_TARGET = 1.5;

type PerServer<T> = Partial<Record<ServerName, T>>;

/** A windowed scenario's windows as the harness's record: medians per metric, windows for paired ratios. */
export function windowedRecord(scenario: WindowedScenario, figures: Map<ServerName, ServerWindows>): ScenarioRecord {
  const record: ScenarioRecord = { id: scenario.id, title: scenario.title, metrics: scenario.metrics, servers: {} };
  for (const [name, { windows, error }] of figures) {
    const keys = Object.keys(windows[0]?.metrics ?? {});
    const medians = Object.fromEntries(keys.map((key) => [key, median(windows.map((w) => w.metrics[key]!))]));
    record.servers[name] = { median: medians, windows, ...(error ? { error } : {}) };
  }
  return record;
}

export function memoryRows(memory: PerServer<IdleMemory>): Row[] {
  const bare = memory.bare;
  const ph = memory.partyhouse;
  const steps = (ph ?? bare)?.steps.map((s) => s.sockets) ?? [];
  const rows: Row[] = [];
  for (const [i, sockets] of steps.entries()) {
    const size = sockets.toLocaleString("en-US");
    const figure = (pick: (m: IdleMemory) => number | undefined) => ({ bare: bare && pick(bare), partyhouse: ph && pick(ph) });
    const heap = figure((m) => m.steps[i] && m.steps[i]!.heapPerSocket / KiB);
    const rss = figure((m) => m.steps[i] && m.steps[i]!.rssPerSocket / KiB);
    rows.push(
      { label: `V8 heap per idle socket, ${size} in a hibernated room`, unit: "KiB", better: "lower", ...heap, target: ratioTarget("lower", MEMORY_TARGET, plainRatio(heap.bare, heap.partyhouse)) },
      { label: `RSS per idle socket, ${size} in a hibernated room`, unit: "KiB", better: "lower", ...rss, target: ratioTarget("lower", MEMORY_TARGET, plainRatio(rss.bare, rss.partyhouse)) },
    );
  }
  if (steps.length >= 2) {
    const span = `${(steps[0]! / 1000).toFixed(0)}k–${(steps[steps.length - 1]! / 1000).toFixed(0)}k`;
    rows.push(
      { label: `V8 heap slope per added socket, ${span}`, unit: "KiB", better: "lower", bare: bare && bare.heapSlope / KiB, partyhouse: ph && ph.heapSlope / KiB },
      { label: `RSS slope per added socket, ${span}`, unit: "KiB", better: "lower", bare: bare && bare.rssSlope / KiB, partyhouse: ph && ph.rssSlope / KiB },
      { label: "idle sockets per GiB of server RSS (from the RSS slope)", unit: "sockets", better: "higher", bare: bare && GiB / bare.rssSlope, partyhouse: ph && GiB / ph.rssSlope },
    );
  }
  return rows;
}

/** Rows of windowed scenarios; a metric with a target gets the harness's ratio check. */
export function windowedRows(record: ScenarioRecord, absoluteTargets: Record<string, (value: number | undefined) => string> = {}): Row[] {
  return record.metrics.map((metric) => {
    const ratio = pairedRatio(record, metric.key, "bare");
    const partyhouse = record.servers.partyhouse?.median[metric.key];
    const absolute = absoluteTargets[metric.key];
    return {
      label: metric.label,
      unit: metric.unit,
      better: metric.better,
      bare: record.servers.bare?.median[metric.key],
      partyhouse,
      ...(ratio ? { ratio } : {}),
      target: absolute ? absolute(partyhouse) : metric.target !== undefined ? ratioTarget(metric.better, metric.target, ratio) : "",
    };
  });
}

export const wakeTargets = {
  "wake.p50": (value: number | undefined) =>
    value === undefined || !Number.isFinite(value) ? `< ${WAKE_P50_TARGET_MS} ms` : `< ${WAKE_P50_TARGET_MS} ms ${value < WAKE_P50_TARGET_MS ? "ok" : "MISS"}`,
};

/** The first-broadcast-after-a-wake figure's absolute target on its p99 (issue 23). */
export function wakeFanoutTargets(id: string): Record<string, (value: number | undefined) => string> {
  if (!id.startsWith("wakefanout")) return {};
  const goal = `≤ ${WAKE_FANOUT_P99_TARGET_MS} ms`;
  return {
    [`${id}.p99`]: (value) => (value === undefined || !Number.isFinite(value) ? goal : `${goal} ${value <= WAKE_FANOUT_P99_TARGET_MS ? "ok" : "MISS"}`),
  };
}

export function idleRoomRows(rooms: PerServer<IdleRooms>): Row[] {
  if (!rooms.bare && !rooms.partyhouse) return [];
  const count = (rooms.partyhouse ?? rooms.bare)?.rooms.toLocaleString("en-US") ?? "";
  const rows: Row[] = [
    { label: `V8 heap per idle room (${count} fresh rooms, no sockets)`, unit: "B", better: "lower", bare: rooms.bare?.heapPerRoom, partyhouse: rooms.partyhouse?.heapPerRoom },
    { label: `RSS per idle room (${count} fresh rooms, no sockets)`, unit: "B", better: "lower", bare: rooms.bare?.rssPerRoom, partyhouse: rooms.partyhouse?.rssPerRoom },
  ];
  const evicted = rooms.partyhouse?.afterEviction;
  if (evicted) {
    rows.push({ label: "V8 heap per idle room left after 15 s (partyhouse evicts)", unit: "B", better: "lower", partyhouse: evicted.heapPerRoom });
  }
  return rows;
}

/** What a reader needs to trust the memory rows: the room was asleep at every reading. */
export function memoryNotes(memory: PerServer<IdleMemory>): string[] {
  const ph = memory.partyhouse;
  if (!ph) return [];
  return ph.steps.map((step) => {
    const h = step.hibernation;
    if (!h) return `memory at ${step.sockets}: no hibernation check`;
    const woke = h.builtByWake === h.builtBeforeReading + 1;
    const all = h.connectionsAfterWake === step.sockets;
    return (
      `memory at ${step.sockets.toLocaleString("en-US")} sockets: 0 of the room's ${h.builtBeforeReading} instances alive after GC (seen ${h.goneAfterMs} ms after the last socket opened); ` +
      `a request then built instance #${h.builtByWake}${woke ? "" : " (EXPECTED #" + (h.builtBeforeReading + 1) + ")"} and saw ${h.connectionsAfterWake} connections${all ? "" : " (EXPECTED " + step.sockets + ")"}`
    );
  });
}

/** The per-GiB sentence asked for in issue 5, from the measured slopes. */
export function perGibNote(memory: PerServer<IdleMemory>): string | undefined {
  const ph = memory.partyhouse;
  if (!ph || !Number.isFinite(ph.rssSlope) || ph.rssSlope <= 0) return undefined;
  const perGib = Math.floor(GiB / ph.rssSlope / 1000) * 1000;
  return (
    `one hibernated room holds about ${perGib.toLocaleString("en-US")} idle sockets per GiB of partyhouse RSS ` +
    `(measured slope: ${(ph.rssSlope / KiB).toFixed(2)} KiB RSS per socket, of which ${(ph.heapSlope / KiB).toFixed(2)} KiB V8 heap; ` +
    `the kernel's own ~3.8 KB per TCP socket is not in RSS)`
  );
}
