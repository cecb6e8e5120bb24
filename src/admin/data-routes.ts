/**
 * The admin API's data operations (src/data/README.md):
 *
 * - `GET /api/snapshot`: a consistent copy of the whole SQLite store, taken while the server
 *   keeps serving (src/data/online-snapshot.ts), as a SQLite file; what `partyhouse backup
 *   --admin` downloads and turns into an export. A cluster's database is read directly instead.
 * - `GET /api/parties/:party/rooms/:room/export`: one room's export (JSON lines).
 * - `DELETE /api/parties/:party/rooms/:room/storage[?force=true]`: delete a room's keys and
 *   alarm; 409 while the room is live unless forced (then its sockets close with 1012).
 *
 * A browser cannot send DELETE to another origin without a CORS preflight, which this listener
 * never grants, so a web page cannot delete rooms even where no token is set.
 */
import fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import type { Project } from "../runtime/project.js";
import type { StorageService } from "../storage/contract.js";
import { SqliteEngine } from "../storage/sqlite-engine.js";
import { writeExport } from "../data/export-writer.js";
import { SnapshotBusyError, takeOnlineSnapshot } from "../data/online-snapshot.js";
import type { StoreRecord } from "../data/records.js";
import type { Logger } from "../runtime/logger.js";

import { SNAPSHOT_AT_HEADER } from "../data/admin-client.js";

export interface DataRouteDependencies {
  readonly project: Project;
  readonly storage: StorageService;
  readonly logger: Logger;
}

type Reply = (status: number, body: unknown) => void;

/** Handles the request if it is one of the routes above; false if it is not. */
export async function handleDataRoute(
  req: IncomingMessage,
  res: ServerResponse,
  segments: readonly string[],
  query: URLSearchParams,
  deps: DataRouteDependencies,
  reply: Reply,
): Promise<boolean> {
  const method = req.method ?? "GET";
  if (segments.length === 1 && segments[0] === "snapshot" && method !== "DELETE") {
    await sendSnapshot(res, deps, reply);
    return true;
  }
  const [first, party, rooms, room, what, ...rest] = segments;
  if (first !== "parties" || rooms !== "rooms" || party === undefined || room === undefined || rest.length > 0) return false;
  if (what === "export" && method !== "DELETE") {
    if (!deps.project.parties.has(party)) reply(404, { error: `party ${party} not found` });
    else await sendRoomExport(res, deps, party, room);
    return true;
  }
  if (what === "storage" && method === "DELETE") {
    if (!deps.project.parties.has(party)) {
      reply(404, { error: `party ${party} not found` });
      return true;
    }
    const force = query.get("force") === "true" || query.get("force") === "1";
    const outcome = await deps.project.deleteRoomStorage(party, room, force);
    if (outcome.kind === "deleted") {
      deps.logger.log("info", "room storage deleted", { party, room, closedSockets: outcome.closedSockets });
      reply(200, { party, room, deleted: true, closedSockets: outcome.closedSockets });
    } else if (outcome.kind === "live") {
      reply(409, { error: `room ${party}/${room} is live here (${outcome.sockets} sockets; it ran in the last seconds): add ?force=true to close it and delete its storage`, sockets: outcome.sockets });
    } else {
      reply(409, { error: `room ${party}/${room} runs on node ${outcome.nodeId} (${outcome.address}); delete it through that node's admin listener`, owner: outcome.nodeId });
    }
    return true;
  }
  return false;
}

async function sendSnapshot(res: ServerResponse, deps: DataRouteDependencies, reply: Reply): Promise<void> {
  const engine = deps.storage.reader;
  if (!(engine instanceof SqliteEngine)) {
    reply(409, {
      error:
        engine.kind === "postgres"
          ? "this node's storage is the cluster database: back it up by reading it directly (partyhouse backup <file> --from <postgres url>)"
          : `storage is ${engine.kind} (in memory): there is nothing on disk to back up`,
    });
    return;
  }
  if (engine.shared) {
    // The online snapshot sees only this process's commits; the supervisor takes one of all.
    reply(409, { error: "this store is shared by workers: take the snapshot through the supervisor's admin listener" });
    return;
  }
  let snapshot;
  try {
    snapshot = await takeOnlineSnapshot(engine);
  } catch (error) {
    if (error instanceof SnapshotBusyError) return reply(409, { error: error.message });
    throw error;
  }
  deps.logger.log("info", "snapshot taken", { bytes: snapshot.bytes, slices: snapshot.slices, longestSliceMs: Number(snapshot.longestSliceMs.toFixed(2)) });
  await sendSnapshotFile(res, snapshot);
}

/** Sends a snapshot file as `GET /api/snapshot` answers it, then deletes the file. */
export async function sendSnapshotFile(res: ServerResponse, snapshot: { readonly file: string; readonly bytes: number; readonly at: Date }): Promise<void> {
  try {
    res.writeHead(200, {
      "content-type": "application/vnd.sqlite3",
      "content-length": snapshot.bytes,
      "content-disposition": 'attachment; filename="partyhouse-snapshot.sqlite3"',
      "cache-control": "no-store",
      [SNAPSHOT_AT_HEADER]: snapshot.at.toISOString(),
    });
    if (res.req.method === "HEAD") res.end();
    else await pipeline(fs.createReadStream(snapshot.file), res);
  } finally {
    // Not rmSync: unlinking gigabytes (with online discard) held the event loop for 0.7 s.
    await fs.promises.rm(snapshot.file, { force: true });
  }
}

/**
 * One room as an export. Read from the engine's committed data in one go (on SQLite, keys and
 * alarm in the same synchronous stretch, so from one moment); a room is small enough for that.
 */
async function sendRoomExport(res: ServerResponse, deps: DataRouteDependencies, party: string, room: string): Promise<void> {
  const reader = deps.storage.reader;
  const ref = { party, room };
  const [entries, alarm] = await Promise.all([reader.list(ref, {}), reader.getAlarm(ref)]);
  const records: StoreRecord[] = entries.map(([key, value]) => ({
    kind: "entry",
    party,
    room,
    key: Buffer.from(key, "utf8"),
    value: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
  }));
  if (alarm !== null) records.push({ kind: "alarm", party, room, time: alarm });
  if (records.length > 0) records.push({ kind: "end", party, room, position: { after: [party, room] } });
  res.writeHead(200, {
    "content-type": "application/x-ndjson; charset=utf-8",
    "content-disposition": `attachment; filename="${encodeURIComponent(`${party}-${room}`)}.jsonl"`,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  if (res.req.method === "HEAD") return void res.end();
  await writeExport([records], res, { source: `${reader.kind} (admin export)`, filter: { party, room } });
  res.end();
}
