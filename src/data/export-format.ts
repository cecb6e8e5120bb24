/**
 * The export format (README.md beside this file): UTF-8 JSON lines, one record per line.
 *
 *   {"format":"partyhouse-export","version":1,"id":"…","created":"…","source":"…"}   first line
 *   {"party":"main","room":"chat","key":"msg:1","value":"/w8iBWhlbGxv"}              one per key
 *   {"party":"main","room":"chat","alarm":1764252000000}                            the room's alarm
 *   {"party":"main","room":"chat","keys":1,"sha256":"…"}                            end of the room
 *   {"end":true,"rooms":1,"keys":1,"alarms":1}                                     last line
 *
 * `value` is base64 of the stored bytes (V8 serialization, what storage keeps), so every
 * storable type comes back exactly. A line may carry `json` instead of `value` (hand-written
 * imports: the JSON value is stored as `put` would store it); `--readable` exports add `json`
 * (or `type`) beside `value` for people, and imports ignore it when `value` is there.
 */
import v8 from "node:v8";
import { isUtf8 } from "node:buffer";
import { showValue } from "../storage/json-value.js";
import { normalizeKey } from "../storage/keys.js";
import { MAX_KEY_BYTES, MAX_VALUE_BYTES, VALUE_TAG_TOLERANCE } from "../storage/limits.js";
import { decodeValue, encodeValue } from "../storage/values.js";
import type { RoomSummary } from "./room-digest.js";

export const FORMAT = "partyhouse-export";
export const FORMAT_VERSION = 1;

export interface ExportHeader {
  readonly format: typeof FORMAT;
  readonly version: number;
  /** Random per export: a rerun of an interrupted restore or import recognizes its file by it. */
  readonly id: string;
  readonly created: string;
  /** Where it was read from (engine and place, no password). */
  readonly source: string;
  readonly filter?: { readonly party?: string; readonly prefix?: string; readonly room?: string };
}

export interface ExportTotals {
  readonly rooms: number;
  readonly keys: number;
  readonly alarms: number;
}

export type ParsedLine =
  | { readonly kind: "header"; readonly header: ExportHeader }
  | { readonly kind: "entry"; readonly party: string; readonly room: string; readonly key: Buffer; readonly value: Buffer }
  | { readonly kind: "alarm"; readonly party: string; readonly room: string; readonly time: number }
  | { readonly kind: "summary"; readonly party: string; readonly room: string; readonly keys: number; readonly sha256: string | undefined }
  | { readonly kind: "end"; readonly totals: Partial<ExportTotals> };

export class ExportFormatError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = "ExportFormatError";
  }
}

// ---- writing ---------------------------------------------------------------------------------

export function headerLine(header: ExportHeader): string {
  return `${JSON.stringify(header)}\n`;
}

/** `room` is the `"party":…,"room":…` prefix, JSON-encoded once per room (roomFields). */
export function entryLine(room: string, key: Buffer, value: Uint8Array, readable: boolean): string {
  // Stored keys are UTF-8 of well-formed strings; anything else would not survive JSON.
  if (!isUtf8(key)) throw new Error(`a stored key is not valid UTF-8 (${key.toString("hex")}): the store is damaged`);
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const base = `{${room},"key":${JSON.stringify(key.toString("utf8"))},"value":"${bytes.toString("base64")}"`;
  return readable ? `${base},${readableFields(bytes)}}\n` : `${base}}\n`;
}

export function alarmLine(room: string, time: number): string {
  return `{${room},"alarm":${JSON.stringify(time)}}\n`;
}

export function summaryLine(room: string, summary: RoomSummary): string {
  return `{${room},"keys":${summary.keys},"sha256":"${summary.sha256}"}\n`;
}

export function endLine(totals: ExportTotals): string {
  return `${JSON.stringify({ end: true, ...totals })}\n`;
}

export function roomFields(party: string, room: string): string {
  return `"party":${JSON.stringify(party)},"room":${JSON.stringify(room)}`;
}

/** The value for people: `"json":…` when JSON holds it exactly, else its type (admin API's view). */
function readableFields(bytes: Buffer): string {
  try {
    const shown = showValue(decodeValue(bytes));
    return "json" in shown ? `"json":${JSON.stringify(shown.json)}` : `"shown":${JSON.stringify(shown)}`;
  } catch {
    return `"shown":{"type":"undecodable"}`;
  }
}

// ---- reading ---------------------------------------------------------------------------------

const V8_HEADER = v8.serialize("")[0]!;

export function parseLine(text: string, line: number): ParsedLine {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new ExportFormatError(line, `not JSON (${(error as Error).message})`);
  }
  if (record === null || typeof record !== "object" || Array.isArray(record)) throw new ExportFormatError(line, "not a JSON object");
  if ("format" in record) return { kind: "header", header: parseHeader(record, line) };
  if (record.end === true) return { kind: "end", totals: parseTotals(record, line) };
  // As stores keep them: a lone surrogate (JSON can escape one) becomes U+FFFD.
  const party = normalizeKey(text_(record, "party", line));
  const room = normalizeKey(text_(record, "room", line));
  if ("key" in record) {
    const key = Buffer.from(normalizeKey(text_(record, "key", line)), "utf8");
    if (key.byteLength > MAX_KEY_BYTES) throw new ExportFormatError(line, `the key is ${key.byteLength} bytes; keys are at most ${MAX_KEY_BYTES}`);
    return { kind: "entry", party, room, key, value: parseValue(record, line) };
  }
  if ("alarm" in record) {
    const time = record.alarm;
    if (typeof time !== "number" || !Number.isFinite(time)) throw new ExportFormatError(line, "alarm must be a number (ms since the epoch)");
    return { kind: "alarm", party, room, time };
  }
  if ("keys" in record) {
    const keys = record.keys;
    if (typeof keys !== "number" || !Number.isInteger(keys) || keys < 0) throw new ExportFormatError(line, "keys must be a whole number");
    const sha256 = record.sha256;
    if (sha256 !== undefined && (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256))) {
      throw new ExportFormatError(line, "sha256 must be 64 lowercase hex digits");
    }
    return { kind: "summary", party, room, keys, sha256 };
  }
  throw new ExportFormatError(line, "a record needs key, alarm or keys (or is the header or end line)");
}

function parseHeader(record: Record<string, unknown>, line: number): ExportHeader {
  if (record.format !== FORMAT) throw new ExportFormatError(line, `format must be "${FORMAT}"`);
  if (record.version !== FORMAT_VERSION) {
    throw new ExportFormatError(line, `version ${String(record.version)} is not one this partyhouse reads (it reads ${FORMAT_VERSION})`);
  }
  const id = record.id;
  return {
    format: FORMAT,
    version: FORMAT_VERSION,
    // A hand-written file may leave these out; its id is then its content's start (see import).
    id: typeof id === "string" ? id : "",
    created: typeof record.created === "string" ? record.created : "",
    source: typeof record.source === "string" ? record.source : "",
  };
}

function parseTotals(record: Record<string, unknown>, line: number): Partial<ExportTotals> {
  const totals: { rooms?: number; keys?: number; alarms?: number } = {};
  for (const name of ["rooms", "keys", "alarms"] as const) {
    const value = record[name];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) throw new ExportFormatError(line, `${name} must be a whole number`);
    totals[name] = value;
  }
  return totals;
}

function parseValue(record: Record<string, unknown>, line: number): Buffer {
  const encoded = record.value;
  if (encoded === undefined) {
    if (!("json" in record)) throw new ExportFormatError(line, "an entry needs value (base64) or json");
    try {
      const bytes = encodeValue(record.json).bytes;
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (error) {
      throw new ExportFormatError(line, (error as Error).message);
    }
  }
  if (typeof encoded !== "string") throw new ExportFormatError(line, "value must be base64");
  const bytes = Buffer.from(encoded, "base64");
  if (bytes.byteLength !== base64Length(encoded)) throw new ExportFormatError(line, "value must be base64");
  if (bytes.byteLength === 0 || bytes[0] !== V8_HEADER) throw new ExportFormatError(line, "value is not a stored value (V8 serialization)");
  if (bytes.byteLength > MAX_VALUE_BYTES + VALUE_TAG_TOLERANCE) {
    throw new ExportFormatError(line, `the value is ${bytes.byteLength} bytes; values are at most ${MAX_VALUE_BYTES}`);
  }
  return bytes;
}

/**
 * The byte length whole base64 text decodes to, or -1. Node's decoder skips characters outside
 * the alphabet, so a damaged value decodes to fewer bytes than this (cheaper than a regex over
 * 170 KB lines, which took 15% of an import).
 */
function base64Length(text: string): number {
  if (text.length % 4 !== 0) return -1;
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

function text_(record: Record<string, unknown>, name: string, line: number): string {
  const value = record[name];
  if (typeof value !== "string") throw new ExportFormatError(line, `${name} must be a string`);
  return value;
}
