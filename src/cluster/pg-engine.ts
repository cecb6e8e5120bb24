/**
 * Room storage on PostgreSQL, with the SQLite engine's semantics (the shared storage suites run
 * against both). Values and keys are bytea, so keys sort in UTF-8 byte order. A group commit is
 * one transaction: it starts with the fence of every room in the batch (spec §5.6 d, verified in
 * §5.9), `SELECT … FOR SHARE` on the rooms' ph_rooms rows with this node as owner at the
 * room's epoch. FOR SHARE conflicts with a takeover's row lock, so a takeover in flight is waited
 * for and then re-checked against the new row. Rooms whose fence fails are reported as fenced
 * and nothing of theirs is written; the others commit, alarms in the same transaction.
 */
import type pg from "pg";
import type {
  AlarmEntry,
  CommitOutcome,
  FenceToken,
  ListQuery,
  RoomRef,
  RoomWrite,
  StorageEngine,
} from "../storage/engine.js";
import { toByteRange } from "../storage/key-range.js";

/** Who this engine writes as: the node's ownership state (PgDirectory). */
export interface FenceAuthority {
  readonly nodeId: string;
  /** The node's current incarnation (ph_nodes.incarnation). */
  readonly incarnation: string;
  /** The epoch of a room this node owns; throws when it does not own the room. */
  epochOf(room: RoomRef): number | Promise<number>;
  /** A commit of `room` at `epoch` was refused: the room is owned elsewhere now. */
  fenced(room: RoomRef, epoch: number): void;
}

/**
 * Rows are locked in (party, room) order, the order batched claims and releases lock them in
 * (pg-directory.ts), so a commit and a takeover of several of its rooms never deadlock.
 */
const FENCE_SQL = `
SELECT r.party, r.room, r.owner_epoch FROM ph_rooms r
JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS w(party, room, epoch)
  ON r.party = w.party AND r.room = w.room AND r.owner_epoch = w.epoch
WHERE r.owner_node = $4 AND r.owner_incarnation = $5
ORDER BY r.party, r.room
FOR SHARE OF r`;

export class PostgresEngine implements StorageEngine {
  readonly kind = "postgres";
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly authority: FenceAuthority,
  ) {}

  async claim(room: RoomRef): Promise<FenceToken> {
    this.assertOpen();
    return this.authority.epochOf(room);
  }

  async get(room: RoomRef, keys: readonly string[]): Promise<Map<string, Uint8Array>> {
    this.assertOpen();
    const found = new Map<string, Uint8Array>();
    if (keys.length === 0) return found;
    const result = await this.pool.query<{ key: Buffer; value: Buffer }>(
      "SELECT key, value FROM ph_kv WHERE party = $1 AND room = $2 AND key = ANY($3::bytea[])",
      [room.party, room.room, keys.map((key) => Buffer.from(key, "utf8"))],
    );
    for (const row of result.rows) found.set(row.key.toString("utf8"), row.value);
    return found;
  }

  async list(room: RoomRef, query: ListQuery): Promise<Array<[string, Uint8Array]>> {
    this.assertOpen();
    const range = toByteRange(query);
    if (range === null) return [];
    const values: unknown[] = [room.party, room.room];
    const conditions = ["party = $1", "room = $2"];
    if (range.lower !== undefined) {
      values.push(range.lower);
      conditions.push(`key ${range.lowerInclusive ? ">=" : ">"} $${values.length}`);
    }
    if (range.upper !== undefined) {
      values.push(range.upper);
      conditions.push(`key < $${values.length}`);
    }
    let sql = `SELECT key, value FROM ph_kv WHERE ${conditions.join(" AND ")} ORDER BY key ${query.reverse ? "DESC" : "ASC"}`;
    if (query.limit !== undefined) {
      values.push(query.limit);
      sql += ` LIMIT $${values.length}`;
    }
    const result = await this.pool.query<{ key: Buffer; value: Buffer }>(sql, values);
    return result.rows.map((row) => [row.key.toString("utf8"), row.value]);
  }

  async getAlarm(room: RoomRef): Promise<number | null> {
    this.assertOpen();
    const result = await this.pool.query<{ time: string }>("SELECT time FROM ph_alarms WHERE party = $1 AND room = $2", [
      room.party,
      room.room,
    ]);
    return result.rows.length === 0 ? null : Number(result.rows[0]!.time);
  }

  async listAlarms(): Promise<AlarmEntry[]> {
    this.assertOpen();
    const result = await this.pool.query<{ party: string; room: string; time: string }>(
      "SELECT party, room, time FROM ph_alarms ORDER BY time",
    );
    return result.rows.map((row) => ({ room: { party: row.party, room: row.room }, time: Number(row.time) }));
  }

  /** Rooms holding a key or an alarm; COLLATE "C" compares bytes, so UTF-8 byte order. */
  async listRooms(party: string, after: string | undefined, limit: number): Promise<string[]> {
    this.assertOpen();
    const result = await this.pool.query<{ room: string }>(
      `SELECT room FROM (SELECT room FROM ph_kv WHERE party = $1 UNION SELECT room FROM ph_alarms WHERE party = $1) r
       WHERE $2::text IS NULL OR room > $2::text COLLATE "C" ORDER BY room COLLATE "C" LIMIT $3`,
      [party, after ?? null, limit],
    );
    return result.rows.map((row) => row.room);
  }

  async commit(writes: readonly RoomWrite[]): Promise<CommitOutcome> {
    this.assertOpen();
    if (writes.length === 0) return { fenced: [] };
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const fence = await client.query<{ party: string; room: string; owner_epoch: string }>(FENCE_SQL, [
        writes.map((write) => write.room.party),
        writes.map((write) => write.room.room),
        writes.map((write) => write.fence),
        this.authority.nodeId,
        this.authority.incarnation,
      ]);
      const passed = new Set(fence.rows.map((row) => `${row.party}\0${row.room}\0${row.owner_epoch}`));
      const accepted: RoomWrite[] = [];
      const fenced: RoomWrite[] = [];
      for (const write of writes) {
        if (passed.has(`${write.room.party}\0${write.room.room}\0${write.fence}`)) accepted.push(write);
        else fenced.push(write);
      }
      await applyWrites(client, accepted);
      await client.query("COMMIT");
      for (const write of fenced) this.authority.fenced(write.room, write.fence);
      return { fenced: fenced.map((write) => write.room) };
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      // A connection that failed mid-transaction is not trusted again.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("storage engine is closed");
  }
}

/**
 * The accepted rooms' writes, as set-based statements (one per kind, whatever the number of
 * rooms). Order: deleteAll first; puts and deletes of one batch touch distinct keys.
 */
async function applyWrites(client: pg.PoolClient, writes: readonly RoomWrite[]): Promise<void> {
  const wipe = { party: [] as string[], room: [] as string[] };
  const puts = { party: [] as string[], room: [] as string[], key: [] as Buffer[], value: [] as Buffer[] };
  const deletes = { party: [] as string[], room: [] as string[], key: [] as Buffer[] };
  const alarms = { party: [] as string[], room: [] as string[], time: [] as number[] };
  const clears = { party: [] as string[], room: [] as string[] };
  for (const write of writes) {
    const { party, room } = write.room;
    if (write.deleteAll) {
      wipe.party.push(party);
      wipe.room.push(room);
    }
    for (const [key, value] of write.entries) {
      const keyBytes = Buffer.from(key, "utf8");
      if (value === null) {
        deletes.party.push(party);
        deletes.room.push(room);
        deletes.key.push(keyBytes);
      } else {
        puts.party.push(party);
        puts.room.push(room);
        puts.key.push(keyBytes);
        puts.value.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      }
    }
    if (write.alarm === null) {
      clears.party.push(party);
      clears.room.push(room);
    } else if (write.alarm !== undefined) {
      alarms.party.push(party);
      alarms.room.push(room);
      alarms.time.push(write.alarm);
    }
  }
  if (wipe.party.length > 0) {
    await client.query(
      "DELETE FROM ph_kv WHERE (party, room) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
      [wipe.party, wipe.room],
    );
  }
  if (deletes.party.length > 0) {
    await client.query(
      "DELETE FROM ph_kv WHERE (party, room, key) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[]))",
      [deletes.party, deletes.room, deletes.key],
    );
  }
  if (puts.party.length > 0) {
    await client.query(
      `INSERT INTO ph_kv (party, room, key, value)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bytea[])
       ON CONFLICT (party, room, key) DO UPDATE SET value = excluded.value`,
      [puts.party, puts.room, puts.key, puts.value],
    );
  }
  if (clears.party.length > 0) {
    await client.query(
      "DELETE FROM ph_alarms WHERE (party, room) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
      [clears.party, clears.room],
    );
  }
  if (alarms.party.length > 0) {
    await client.query(
      `INSERT INTO ph_alarms (party, room, time) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
       ON CONFLICT (party, room) DO UPDATE SET time = excluded.time`,
      [alarms.party, alarms.room, alarms.time],
    );
  }
}
