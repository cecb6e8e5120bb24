/**
 * Records to export lines (export-format.ts), streamed: text is gathered into chunks of about
 * 256 KiB and written with the destination's backpressure, so memory stays flat whatever the
 * store's size. Each room ends with its summary line (count and SHA-256), the file with totals.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import type { Writable } from "node:stream";
import { alarmLine, endLine, entryLine, FORMAT, FORMAT_VERSION, headerLine, roomFields, summaryLine, type ExportHeader, type ExportTotals } from "./export-format.js";
import type { RoomFilter, StoreRecord } from "./records.js";
import { RoomDigest } from "./room-digest.js";

const CHUNK_CHARS = 256 * 1024;

export interface ExportOptions {
  /** Where the records come from (the header's `source`). */
  readonly source: string;
  readonly filter?: RoomFilter;
  /** Add each value's JSON (or type) beside its bytes. */
  readonly readable?: boolean;
}

export interface ExportStats extends ExportTotals {
  readonly id: string;
  /** Bytes of keys and values exported. */
  readonly dataBytes: number;
  /** Bytes written (before any compression). */
  readonly outputBytes: number;
}

export async function writeExport(
  records: AsyncIterable<readonly StoreRecord[]> | Iterable<readonly StoreRecord[]>,
  out: Writable,
  options: ExportOptions,
): Promise<ExportStats> {
  const header: ExportHeader = {
    format: FORMAT,
    version: FORMAT_VERSION,
    id: randomUUID(),
    created: new Date().toISOString(),
    source: options.source,
    ...(hasFilter(options.filter) ? { filter: { ...options.filter } } : {}),
  };
  const readable = options.readable === true;
  let chunk = headerLine(header);
  let outputBytes = 0;
  const totals = { rooms: 0, keys: 0, alarms: 0 };
  let dataBytes = 0;
  let digest: RoomDigest | undefined;
  let fields = "";
  const flush = async () => {
    outputBytes += Buffer.byteLength(chunk);
    const more = out.write(chunk);
    chunk = "";
    if (!more) await once(out, "drain");
  };
  for await (const batch of records) {
    for (const record of batch) {
      if (digest === undefined || digest.party !== record.party || digest.room !== record.room) {
        digest = new RoomDigest(record.party, record.room);
        fields = roomFields(record.party, record.room);
      }
      if (record.kind === "entry") {
        digest.entry(record.key, record.value);
        chunk += entryLine(fields, record.key, record.value, readable);
      } else if (record.kind === "alarm") {
        digest.setAlarm(record.time);
        chunk += alarmLine(fields, record.time);
      } else {
        const summary = digest.finish();
        chunk += summaryLine(fields, summary);
        totals.rooms++;
        totals.keys += summary.keys;
        if (summary.alarm !== null) totals.alarms++;
        dataBytes += summary.bytes;
        digest = undefined;
      }
      if (chunk.length >= CHUNK_CHARS) await flush();
    }
  }
  chunk += endLine(totals);
  await flush();
  return { id: header.id, ...totals, dataBytes, outputBytes };
}

function hasFilter(filter: RoomFilter | undefined): filter is RoomFilter {
  return filter !== undefined && (filter.party !== undefined || filter.prefix !== undefined || filter.room !== undefined);
}
