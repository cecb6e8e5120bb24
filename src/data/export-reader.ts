/**
 * Export lines back to records, checked as they stream by: the header first, rooms in
 * (party, room) UTF-8 order with their keys in byte order (the order exports are written in,
 * which lets an interrupted import resume by line and replace rooms without remembering them),
 * each room's count and SHA-256 against its summary line, and the totals against the end line.
 * A file that stops before its end line is an error, never a smaller import.
 */
import type { Readable } from "node:stream";
import { ExportFormatError, parseLine, type ExportHeader, type ExportTotals } from "./export-format.js";
import { readLines } from "./line-reader.js";
import { compareRooms, roomMatches, type RoomFilter, type StoreRecord } from "./records.js";
import { RoomDigest } from "./room-digest.js";

export interface ReadOptions {
  readonly filter?: RoomFilter;
  /** Lines already applied by an interrupted run: read and checked, not emitted. */
  readonly skipLines?: number;
}

export class ExportReader {
  private totals = { rooms: 0, keys: 0, alarms: 0 };

  private constructor(
    readonly header: ExportHeader,
    private readonly lines: AsyncGenerator<string[]>,
    private readonly rest: string[],
  ) {}

  /** Reads the header line; the records follow through records(). */
  static async open(input: Readable): Promise<ExportReader> {
    const lines = readLines(input);
    for (;;) {
      const next = await lines.next();
      if (next.done) throw new ExportFormatError(1, "the input is empty (expected a partyhouse export)");
      const batch = next.value;
      const index = batch.findIndex((line) => line.trim() !== "");
      if (index === -1) continue;
      const parsed = parseLine(batch[index]!, 1);
      if (parsed.kind !== "header") throw new ExportFormatError(1, 'the first line must be the header ({"format":"partyhouse-export",…})');
      return new ExportReader(parsed.header, lines, batch.slice(index + 1));
    }
  }

  /** Counted over the whole file once records() is done. */
  get counted(): ExportTotals {
    return { ...this.totals };
  }

  async *records(options: ReadOptions = {}): AsyncGenerator<StoreRecord[]> {
    const filter = options.filter ?? {};
    const skip = options.skipLines ?? 0;
    let lineNumber = 1;
    let room: RoomDigest | undefined;
    let phase: "entries" | "alarm" = "entries";
    let lastKey: Buffer | undefined;
    let previous: { party: string; room: string } | undefined;
    let ended = false;
    let out: StoreRecord[] = [];
    const emit = (record: StoreRecord) => {
      if (lineNumber > skip && roomMatches(filter, record.party, record.room)) out.push(record);
    };
    const closeRoom = (through: number) => {
      const summary = room!.finish();
      this.totals.rooms++;
      this.totals.keys += summary.keys;
      if (summary.alarm !== null) this.totals.alarms++;
      const end = { kind: "end" as const, party: summary.party, room: summary.room, position: { lines: through } };
      if (through > skip && roomMatches(filter, end.party, end.room)) out.push(end);
      previous = { party: summary.party, room: summary.room };
      room = undefined;
      return summary;
    };
    const enterRoom = (party: string, name: string) => {
      if (room !== undefined && room.party === party && room.room === name) return;
      // A room without a summary line (hand-written files) ends where the next begins.
      if (room !== undefined) closeRoom(lineNumber - 1);
      if (previous !== undefined && compareRooms(previous, { party, room: name }) >= 0) {
        throw new ExportFormatError(lineNumber, `room ${party}/${name} is out of order: rooms must be sorted by party, then room, in UTF-8 byte order, each room's records together`);
      }
      room = new RoomDigest(party, name);
      phase = "entries";
      lastKey = undefined;
    };
    let pending: string[] = this.rest;
    for (;;) {
      for (const text of pending) {
        lineNumber++;
        if (text.trim() === "") continue;
        if (ended) throw new ExportFormatError(lineNumber, "a record after the end line");
        const line = parseLine(text, lineNumber);
        switch (line.kind) {
          case "header":
            throw new ExportFormatError(lineNumber, "a second header line");
          case "entry":
            enterRoom(line.party, line.room);
            if (phase !== "entries") throw new ExportFormatError(lineNumber, "a key after the room's alarm");
            if (lastKey !== undefined && Buffer.compare(lastKey, line.key) >= 0) {
              throw new ExportFormatError(lineNumber, `key ${JSON.stringify(line.key.toString("utf8"))} is out of order or repeated: a room's keys must be sorted in UTF-8 byte order`);
            }
            lastKey = line.key;
            room!.entry(line.key, line.value);
            emit({ kind: "entry", party: line.party, room: line.room, key: line.key, value: line.value });
            break;
          case "alarm":
            enterRoom(line.party, line.room);
            if (phase === "alarm") throw new ExportFormatError(lineNumber, "a second alarm for the room");
            phase = "alarm";
            room!.setAlarm(line.time);
            emit({ kind: "alarm", party: line.party, room: line.room, time: line.time });
            break;
          case "summary": {
            if (room === undefined || room.party !== line.party || room.room !== line.room) {
              throw new ExportFormatError(lineNumber, `a summary for room ${line.party}/${line.room}, which has no records here`);
            }
            const summary = closeRoom(lineNumber);
            if (summary.keys !== line.keys || (line.sha256 !== undefined && line.sha256 !== summary.sha256)) {
              throw new ExportFormatError(
                lineNumber,
                `room ${line.party}/${line.room} does not match its summary (${summary.keys} keys, sha256 ${summary.sha256}; the line says ${line.keys} keys${line.sha256 ? `, ${line.sha256}` : ""}): the file is damaged`,
              );
            }
            break;
          }
          case "end":
            if (room !== undefined) closeRoom(lineNumber - 1);
            for (const name of ["rooms", "keys", "alarms"] as const) {
              const said = line.totals[name];
              if (said !== undefined && said !== this.totals[name]) {
                throw new ExportFormatError(lineNumber, `the end line says ${said} ${name}, the file holds ${this.totals[name]}: the file is damaged`);
              }
            }
            ended = true;
            break;
        }
      }
      if (out.length > 0) {
        yield out;
        out = [];
      }
      const next = await this.lines.next();
      if (next.done) break;
      pending = next.value;
    }
    if (!ended) throw new ExportFormatError(lineNumber, "the file ends before its end line: it is incomplete (a cut-off download or copy?)");
  }
}
