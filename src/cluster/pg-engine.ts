/**
 * Room storage on PostgreSQL, with the SQLite engine's semantics (the shared storage suites run
 * against both). Values and keys are bytea, so keys sort in UTF-8 byte order. A group commit is
 * one statement, so one round trip and one transaction (COMMIT_SQL): it starts with the fence of
 * every room in the batch (spec §5.6 d, verified in
 * §5.9), `SELECT … FOR SHARE` on the rooms' ph_rooms rows with this node as owner at the
 * room's epoch. FOR SHARE conflicts with a takeover's row lock, so a takeover in flight is waited
 * for and then re-checked against the new row. Rooms whose fence fails are reported as fenced
 * and nothing of theirs is written; the others commit, alarms in the same transaction.
 *
 * A database that does not answer for a moment (a restart, a network blip) is waited out: every
 * statement here is idempotent, so one that fails for such a reason is sent again, with a short
 * backoff, for as long as the node's lease holds (`whileLeaseHolds`). The writes' promises and
 * the output they hold wait meanwhile; nothing is acknowledged before its commit answered. Only a
 * node whose lease ran out gives up (StorageUnavailableError: the client gets 503).
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
import { StorageUnavailableError } from "../storage/engine.js";
import { toByteRange } from "../storage/key-range.js";
import { isTransientDatabaseError } from "./transient-db-error.js";
import { roomKey } from "../storage/room-key.js";

/** Who this engine writes as: the node's ownership state (PgDirectory). */
export interface FenceAuthority {
  readonly nodeId: string;
  /** The node's current incarnation (ph_nodes.incarnation). */
  readonly incarnation: string;
  /** The epoch of a room this node owns; throws when it does not own the room. */
  epochOf(room: RoomRef): number | Promise<number>;
  /** A commit of `room` at `epoch` was refused: the room is owned elsewhere now. */
  fenced(room: RoomRef, epoch: number): void;
  /** How long work begun under `incarnation` may be retried: until the lease deadline, 0 when not held. */
  leaseLeftMs(incarnation: string): number;
}

/** Waits between attempts of a statement the database did not answer: 50 ms doubling, at most 500 ms. */
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 500;

/** An attempt still had no answer when the lease it ran under ran out. */
class LeaseRanOut extends Error {
  constructor() {
    super("no answer from the cluster database before the lease deadline");
  }
}

/**
 * One group commit as ONE statement (one round trip, its own transaction): the fence first
 * (`FOR SHARE`, which waits for a takeover in flight and re-checks the row after it), then every
 * write filtered to the rooms that passed it. Data-modifying WITH queries share one snapshot and
 * must not touch a row twice, so a room's wipe (deleteAll) spares the keys the same batch puts;
 * puts and single-key deletes of one batch touch distinct keys (write-batch.ts). The statement
 * returns the rooms that passed the fence. The fence locks rows in (party, room) order, the order
 * batched claims and releases lock them in (pg-directory.ts), so a commit and a takeover of
 * several of its rooms never deadlock.
 */
const COMMIT_SQL = `
WITH fence AS (
  SELECT r.party, r.room, r.owner_epoch FROM ph_rooms r
  JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS w(party, room, epoch)
    ON r.party = w.party AND r.room = w.room AND r.owner_epoch = w.epoch
  WHERE r.owner_node = $4 AND r.owner_incarnation = $5
  ORDER BY r.party, r.room
  FOR SHARE OF r
),
puts AS (
  SELECT p.party, p.room, p.key, p.value FROM unnest($8::text[], $9::text[], $10::bytea[], $11::bytea[]) AS p(party, room, key, value)
  WHERE (p.party, p.room) IN (SELECT party, room FROM fence)
),
wiped AS (
  DELETE FROM ph_kv k USING unnest($6::text[], $7::text[]) AS x(party, room)
  WHERE k.party = x.party AND k.room = x.room
    AND (x.party, x.room) IN (SELECT party, room FROM fence)
    AND NOT EXISTS (SELECT 1 FROM puts p WHERE p.party = k.party AND p.room = k.room AND p.key = k.key)
),
deleted AS (
  DELETE FROM ph_kv k USING unnest($12::text[], $13::text[], $14::bytea[]) AS d(party, room, key)
  WHERE k.party = d.party AND k.room = d.room AND k.key = d.key
    AND (d.party, d.room) IN (SELECT party, room FROM fence)
),
stored AS (
  INSERT INTO ph_kv (party, room, key, value) SELECT party, room, key, value FROM puts
  ON CONFLICT (party, room, key) DO UPDATE SET value = excluded.value
),
cleared AS (
  DELETE FROM ph_alarms a USING unnest($15::text[], $16::text[]) AS c(party, room)
  WHERE a.party = c.party AND a.room = c.room AND (c.party, c.room) IN (SELECT party, room FROM fence)
),
alarmed AS (
  INSERT INTO ph_alarms (party, room, time)
  SELECT s.party, s.room, s.time FROM unnest($17::text[], $18::text[], $19::bigint[]) AS s(party, room, time)
  WHERE (s.party, s.room) IN (SELECT party, room FROM fence)
  ON CONFLICT (party, room) DO UPDATE SET time = excluded.time
)
SELECT party, room, owner_epoch FROM fence`;

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
    const result = await this.query<{ key: Buffer; value: Buffer }>(
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
    const result = await this.query<{ key: Buffer; value: Buffer }>(sql, values);
    return result.rows.map((row) => [row.key.toString("utf8"), row.value]);
  }

  async getAlarm(room: RoomRef): Promise<number | null> {
    this.assertOpen();
    const result = await this.query<{ time: string }>("SELECT time FROM ph_alarms WHERE party = $1 AND room = $2", [
      room.party,
      room.room,
    ]);
    return result.rows.length === 0 ? null : Number(result.rows[0]!.time);
  }

  async listAlarms(): Promise<AlarmEntry[]> {
    this.assertOpen();
    const result = await this.query<{ party: string; room: string; time: string }>(
      "SELECT party, room, time FROM ph_alarms ORDER BY time",
      [],
    );
    return result.rows.map((row) => ({ room: { party: row.party, room: row.room }, time: Number(row.time) }));
  }

  /** Rooms holding a key or an alarm; COLLATE "C" compares bytes, so UTF-8 byte order. */
  async listRooms(party: string, after: string | undefined, limit: number): Promise<string[]> {
    this.assertOpen();
    const result = await this.query<{ room: string }>(
      `SELECT room FROM (SELECT room FROM ph_kv WHERE party = $1 UNION SELECT room FROM ph_alarms WHERE party = $1) r
       WHERE $2::text IS NULL OR room > $2::text COLLATE "C" ORDER BY room COLLATE "C" LIMIT $3`,
      [party, after ?? null, limit],
    );
    return result.rows.map((row) => row.room);
  }

  async commit(writes: readonly RoomWrite[]): Promise<CommitOutcome> {
    this.assertOpen();
    if (writes.length === 0) return { fenced: [] };
    // Every attempt writes as the incarnation the commit began under: one that re-registered
    // meanwhile lost these rooms, and the fence refuses them.
    const result = await this.query<{ party: string; room: string; owner_epoch: string }>(COMMIT_SQL, [
      writes.map((write) => write.room.party),
      writes.map((write) => write.room.room),
      writes.map((write) => write.fence),
      this.authority.nodeId,
      this.authority.incarnation,
      ...commitParameters(writes),
    ]);
    const passed = new Set(result.rows.map((row) => `${roomKey(row)}\0${row.owner_epoch}`));
    const fenced = writes.filter((write) => !passed.has(`${roomKey(write.room)}\0${write.fence}`));
    for (const write of fenced) this.authority.fenced(write.room, write.fence);
    return { fenced: fenced.map((write) => write.room) };
  }

  async probe(): Promise<void> {
    this.assertOpen();
    await this.pool.query("SELECT 1");
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("storage engine is closed");
  }

  private query<R extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    return this.whileLeaseHolds(() => this.pool.query<R>(sql, values));
  }

  /**
   * Runs an idempotent statement, sending it again after a transient failure while the lease it
   * began under holds; an attempt that hangs is abandoned at the lease deadline. After that the
   * node cannot trust its lease (it fences itself): StorageUnavailableError.
   */
  private async whileLeaseHolds<T>(run: () => Promise<T>): Promise<T> {
    const incarnation = this.authority.incarnation;
    for (let attempt = 0; ; attempt++) {
      try {
        return await beforeDeadline(run(), this.authority.leaseLeftMs(incarnation));
      } catch (error) {
        if (!(error instanceof LeaseRanOut) && !isTransientDatabaseError(error)) throw error;
        const wait = Math.min(RETRY_FIRST_MS * 2 ** attempt, RETRY_MAX_MS);
        if (this.closed || this.authority.leaseLeftMs(incarnation) <= wait) throw new StorageUnavailableError(error);
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }
}

/** `attempt`, or LeaseRanOut if it has not settled within `ms` (no bound when there is no lease to lose). */
function beforeDeadline<T>(attempt: Promise<T>, ms: number): Promise<T> {
  if (ms <= 0) return attempt;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LeaseRanOut()), ms);
  });
  // An abandoned attempt may still fail later: that must not be an unhandled rejection.
  attempt.catch(() => undefined);
  return Promise.race([attempt, deadline]).finally(() => clearTimeout(timer));
}

/**
 * The batch's writes as COMMIT_SQL's columns ($6 … $19): wipes, puts, single-key deletes, alarm
 * clears and alarm sets, each as parallel arrays (one statement whatever the number of rooms).
 */
function commitParameters(writes: readonly RoomWrite[]): unknown[] {
  const wipe = { party: [] as string[], room: [] as string[] };
  const puts = { party: [] as string[], room: [] as string[], key: [] as Buffer[], value: [] as Buffer[] };
  const deletes = { party: [] as string[], room: [] as string[], key: [] as Buffer[] };
  const clears = { party: [] as string[], room: [] as string[] };
  const alarms = { party: [] as string[], room: [] as string[], time: [] as number[] };
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
  return [
    wipe.party, wipe.room,
    puts.party, puts.room, puts.key, puts.value,
    deletes.party, deletes.room, deletes.key,
    clears.party, clears.room,
    alarms.party, alarms.room, alarms.time,
  ];
}
