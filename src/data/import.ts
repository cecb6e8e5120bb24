/**
 * `restore` and `import`: an export file into a store, under the store's incomplete mark.
 *
 * - restore: the target must be empty (or `force`: emptied in the transaction that sets the
 *   mark); rooms are written exactly as exported.
 * - import: merged into whatever the store holds (keys upserted, alarms set); with `replace`,
 *   each imported room is emptied first so it ends exactly as exported.
 *
 * An interrupted run leaves the mark, which names the export's id and the last line whose room
 * was written; running the same command on the same file resumes there. The mark of another
 * file or operation is refused unless `force` (restore: start over; import: import anyway).
 */
import type { Readable } from "node:stream";
import { copyInto, type CopyProgress } from "./copy.js";
import type { ExportHeader, ExportTotals } from "./export-format.js";
import { ExportReader } from "./export-reader.js";
import type { RoomFilter } from "./records.js";
import type { IncompleteMark, Store } from "./store.js";
import { RefusedError, describeMark } from "./refused.js";

export interface ImportOptions {
  readonly operation: "restore" | "import";
  readonly filter?: RoomFilter;
  readonly replace?: boolean;
  readonly force?: boolean;
  readonly onProgress?: (progress: CopyProgress) => void;
}

export interface ImportResult {
  readonly header: ExportHeader;
  /** What the file holds (all of it, filtered or not). */
  readonly file: ExportTotals;
  /** What this run wrote. */
  readonly written: CopyProgress;
  /** Line the run started after (0: from the start). */
  readonly resumedAfterLine: number;
}

export async function importExport(input: Readable, target: Store, options: ImportOptions): Promise<ImportResult> {
  const reader = await ExportReader.open(input);
  // A file without an id (hand-written) is never taken for the one an earlier run was reading.
  const source = reader.header.id ? `export ${reader.header.id}` : `export without id, ${new Date().toISOString()}`;
  const existing = await target.readMark();
  let mark: IncompleteMark | undefined;
  if (existing !== null) {
    if (existing.operation === options.operation && existing.source === source) mark = existing;
    else if (!options.force) {
      throw new RefusedError(
        `${target.description} holds an unfinished ${describeMark(existing)}: run that again to complete it, ` +
          `or pass --force to ${options.operation === "restore" ? "empty it and restore this file" : "import this file anyway"}`,
      );
    }
  }
  if (mark === undefined) {
    const empty = await target.isEmpty();
    if (options.operation === "restore" && !empty && !options.force) {
      throw new RefusedError(`${target.description} is not empty: restore writes into an empty store (pass --force to replace everything in it)`);
    }
    mark = { operation: options.operation, source, started: new Date().toISOString() };
    await target.begin(mark, options.operation === "restore" && !empty);
  }
  const resumedAfterLine = mark.position !== undefined && "lines" in mark.position ? mark.position.lines : 0;
  const written = await copyInto(target, mark, reader.records({ ...(options.filter ? { filter: options.filter } : {}), skipLines: resumedAfterLine }), {
    wipeRooms: options.operation === "restore" || options.replace === true,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  await target.finish();
  return { header: reader.header, file: reader.counted, written, resumedAfterLine };
}
