/**
 * A cluster database as a whole store: the ph_kv and ph_alarms tables of src/cluster/schema.ts.
 *
 * Reading runs in one `REPEATABLE READ READ ONLY` transaction: every query of it sees the
 * database as of its first query, so a scan of a database that nodes keep writing is still one
 * point in time, and no writer waits for it (MVCC). Every group commit of a node is one
 * statement, so a snapshot never holds part of one. The snapshot is kept across calls (a
 * migrate's copy and its verification read the same one) until this object writes.
 *
 * Writing goes straight to the tables (a node's commits are fenced by room ownership; a tool
 * that fills a database no node serves has nothing to fence), one transaction per batch with
 * the mark's position, under the mark in ph_meta that nodes refuse to start on.
 */
import pg from "pg";
import type { RoomRef } from "../storage/engine.js";
import { IncompleteStoreError } from "../storage/incomplete-store-error.js";
import { INCOMPLETE_MARK, migrate } from "../cluster/schema.js";
import { compareRooms, type AlarmRecord, type RoomFilter, type StoreRecord } from "./records.js";
import { decodeMark, encodeMark, type IncompleteMark, type Store, type WriteBatch } from "./store.js";

/** Rows per FETCH, adapted so one fetch holds about FETCH_BYTES. */
const FETCH_BYTES = 8 * 1024 * 1024;
const MIN_FETCH = 64;
const MAX_FETCH = 8192;

export class LiveNodesError extends Error {
  constructor(where: string, nodes: readonly string[]) {
    super(`${where} is in use by running cluster nodes (${nodes.join(", ")}): stop them first (it must not be written while served)`);
    this.name = "LiveNodesError";
  }
}

export class PgStore implements Store {
  readonly kind = "postgres" as const;
  readonly description: string;
  private reader: pg.PoolClient | undefined;
  private cursors = 0;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    url: string,
  ) {
    this.description = describePostgres(url);
  }

  /**
   * `write`: the schema is created if missing, and no node may hold a live lease (a node
   * serving the database would not see what is written under it). Reading needs the tables,
   * and a database marked incomplete is refused, as a node refuses it.
   */
  static async open(url: string, options: { write: boolean }): Promise<PgStore> {
    const pool = new pg.Pool({ connectionString: url, max: 3, application_name: "partyhouse data" });
    // An idle connection that dies must not end the process; the next query reports it.
    pool.on("error", () => undefined);
    const store = new PgStore(pool, url);
    try {
      const exists = await pool.query<{ kv: string | null }>("SELECT to_regclass('ph_kv') AS kv");
      if (!options.write) {
        if (exists.rows[0]!.kv === null) throw new Error(`${store.description} holds no partyhouse tables (ph_kv)`);
        const mark = await store.markText();
        if (mark !== undefined) throw new IncompleteStoreError(`The database ${store.description}`, mark);
        return store;
      }
      // A marked database already has the schema (and migrate() refuses it by design).
      if ((await store.markText()) === undefined) await migrate(pool);
      await store.refuseLiveNodes();
      return store;
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
  }

  // ---- reading -------------------------------------------------------------------------------

  async *records(filter: RoomFilter, after?: RoomRef): AsyncGenerator<StoreRecord[]> {
    const client = await this.snapshot();
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (sql: (n: string) => string, value: unknown) => {
      values.push(value);
      where.push(sql(`$${values.length}`));
    };
    if (after !== undefined) {
      values.push(after.party, after.room);
      where.push(`(party, room) > ($${values.length - 1}::text COLLATE "C", $${values.length}::text COLLATE "C")`);
    }
    if (filter.party !== undefined) add((p) => `party = ${p}`, filter.party);
    if (filter.room !== undefined) add((p) => `room = ${p}`, filter.room);
    if (filter.prefix !== undefined) add((p) => `starts_with(room, ${p})`, filter.prefix);
    const condition = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`;
    const id = ++this.cursors;
    const kvCursor = `ph_kv_${id}`;
    const alarmCursor = `ph_alarms_${id}`;
    // Columns are COLLATE "C": ORDER BY is UTF-8 byte order, the primary key's order.
    await client.query(`DECLARE ${kvCursor} NO SCROLL CURSOR FOR SELECT party, room, key, value FROM ph_kv ${condition} ORDER BY party, room, key`, values);
    await client.query(`DECLARE ${alarmCursor} NO SCROLL CURSOR FOR SELECT party, room, time FROM ph_alarms ${condition} ORDER BY party, room`, values);
    try {
      yield* mergeRooms(fetchEntries(client, kvCursor), fetchAlarms(client, alarmCursor));
    } finally {
      if (!this.closed && this.reader === client) {
        await client.query(`CLOSE ${kvCursor}; CLOSE ${alarmCursor}`).catch(() => undefined);
      }
    }
  }

  /** The read transaction, begun on first use and kept until this store writes. */
  private async snapshot(): Promise<pg.PoolClient> {
    if (this.reader !== undefined) return this.reader;
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      // The snapshot is taken by the first query, not by BEGIN.
      await client.query("SELECT 1 FROM ph_kv LIMIT 1");
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
    this.reader = client;
    return client;
  }

  private async endSnapshot(): Promise<void> {
    const client = this.reader;
    if (client === undefined) return;
    this.reader = undefined;
    await client.query("ROLLBACK").then(
      () => client.release(),
      (error: Error) => client.release(error),
    );
  }

  // ---- writing -------------------------------------------------------------------------------

  async readMark(): Promise<IncompleteMark | null> {
    const text = await this.markText();
    return text === undefined ? null : decodeMark(text);
  }

  async isEmpty(): Promise<boolean> {
    const result = await this.pool.query<{ empty: boolean }>(
      "SELECT NOT (EXISTS (SELECT 1 FROM ph_kv) OR EXISTS (SELECT 1 FROM ph_alarms)) AS empty",
    );
    return result.rows[0]!.empty;
  }

  async begin(mark: IncompleteMark, wipeAll: boolean): Promise<void> {
    await this.transaction(async (client) => {
      if (wipeAll) await client.query("TRUNCATE ph_kv, ph_alarms");
      await client.query("INSERT INTO ph_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [
        INCOMPLETE_MARK,
        encodeMark(mark),
      ]);
    });
    // A node that registered between open() and the mark would serve what is written now.
    await this.refuseLiveNodes();
  }

  async apply(batch: WriteBatch, mark: IncompleteMark): Promise<void> {
    await this.transaction(async (client) => {
      if (batch.wipes.length > 0) {
        const parties = batch.wipes.map((room) => room.party);
        const rooms = batch.wipes.map((room) => room.room);
        await client.query("DELETE FROM ph_kv k USING unnest($1::text[], $2::text[]) AS w(party, room) WHERE k.party = w.party AND k.room = w.room", [parties, rooms]);
        await client.query("DELETE FROM ph_alarms a USING unnest($1::text[], $2::text[]) AS w(party, room) WHERE a.party = w.party AND a.room = w.room", [parties, rooms]);
      }
      if (batch.entries.length > 0) {
        await client.query(
          `INSERT INTO ph_kv (party, room, key, value) SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bytea[])
           ON CONFLICT (party, room, key) DO UPDATE SET value = excluded.value`,
          [
            batch.entries.map((entry) => entry.party),
            batch.entries.map((entry) => entry.room),
            byteaArray(batch.entries.map((entry) => entry.key)),
            byteaArray(batch.entries.map((entry) => entry.value)),
          ],
        );
      }
      if (batch.alarms.length > 0) {
        await client.query(
          `INSERT INTO ph_alarms (party, room, time) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
           ON CONFLICT (party, room) DO UPDATE SET time = excluded.time`,
          [batch.alarms.map((alarm) => alarm.party), batch.alarms.map((alarm) => alarm.room), batch.alarms.map((alarm) => alarm.time)],
        );
      }
      await client.query("UPDATE ph_meta SET value = $2 WHERE key = $1", [INCOMPLETE_MARK, encodeMark(mark)]);
    });
  }

  async finish(): Promise<void> {
    await this.pool.query("DELETE FROM ph_meta WHERE key = $1", [INCOMPLETE_MARK]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.endSnapshot().catch(() => undefined);
    this.closed = true;
    await this.pool.end();
  }

  private async transaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    // What this store reads next must include what it writes now.
    await this.endSnapshot();
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      await work(client);
      await client.query("COMMIT");
      client.release();
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      client.release(error as Error);
      throw error;
    }
  }

  private async markText(): Promise<string | undefined> {
    const meta = await this.pool.query<{ meta: string | null }>("SELECT to_regclass('ph_meta') AS meta");
    if (meta.rows[0]!.meta === null) return undefined;
    const result = await this.pool.query<{ value: string }>("SELECT value FROM ph_meta WHERE key = $1", [INCOMPLETE_MARK]);
    return result.rows[0]?.value;
  }

  private async refuseLiveNodes(): Promise<void> {
    const nodes = await this.pool.query<{ node_id: string }>("SELECT node_id FROM ph_nodes WHERE lease_expires_at > now() ORDER BY node_id");
    if (nodes.rows.length > 0) throw new LiveNodesError(`The database ${this.description}`, nodes.rows.map((row) => row.node_id));
  }
}

/** host:port/database, without user or password (it goes into marks and messages). */
export function describePostgres(url: string): string {
  try {
    const parsed = new URL(url);
    return `postgres://${parsed.host}${parsed.pathname}`;
  } catch {
    return "postgres://(unparsable url)";
  }
}

/** bytea's type OID: the element type written into a binary array. */
const BYTEA_OID = 17;

/**
 * A bytea[] in PostgreSQL's binary array format. node-pg sends a Buffer parameter as binary
 * but an array of Buffers as hex text, which doubles the bytes and made PostgreSQL's array
 * parser the slowest part of an import.
 */
export function byteaArray(items: readonly Buffer[]): Buffer {
  let size = 20;
  for (const item of items) size += 4 + item.byteLength;
  const out = Buffer.allocUnsafe(size);
  out.writeInt32BE(1, 0); // dimensions
  out.writeInt32BE(0, 4); // no nulls
  out.writeInt32BE(BYTEA_OID, 8);
  out.writeInt32BE(items.length, 12);
  out.writeInt32BE(1, 16); // lower bound
  let offset = 20;
  for (const item of items) {
    out.writeInt32BE(item.byteLength, offset);
    item.copy(out, offset + 4);
    offset += 4 + item.byteLength;
  }
  return out;
}

interface EntryRow {
  party: string;
  room: string;
  key: Buffer;
  value: Buffer;
}

interface AlarmRow {
  party: string;
  room: string;
  time: string;
}

/** node-pg's `binary` option (results in binary format), which its types leave out. */
function binaryQuery(text: string): pg.QueryConfig {
  return { text, binary: true } as pg.QueryConfig;
}

async function* fetchEntries(client: pg.PoolClient, cursor: string): AsyncGenerator<EntryRow[]> {
  let count = 1024;
  for (;;) {
    // Binary results: bytea arrives as its bytes, not as hex text to decode.
    const { rows } = await client.query<EntryRow>(binaryQuery(`FETCH ${count} FROM ${cursor}`));
    if (rows.length === 0) return;
    yield rows;
    let bytes = 0;
    for (const row of rows) bytes += row.key.byteLength + row.value.byteLength;
    const perRow = Math.max(1, bytes / rows.length);
    count = Math.min(MAX_FETCH, Math.max(MIN_FETCH, Math.floor(FETCH_BYTES / perRow)));
  }
}

async function* fetchAlarms(client: pg.PoolClient, cursor: string): AsyncGenerator<AlarmRecord> {
  for (;;) {
    const { rows } = await client.query<AlarmRow>(`FETCH ${MAX_FETCH} FROM ${cursor}`);
    if (rows.length === 0) return;
    for (const row of rows) yield { kind: "alarm", party: row.party, room: row.room, time: Number(row.time) };
  }
}

/**
 * Entries and alarms, both in room order, merged into the record order of StoreReader: each
 * room's entries, then its alarm, then its end; rooms with only an alarm in their place.
 */
async function* mergeRooms(entries: AsyncGenerator<EntryRow[]>, alarms: AsyncGenerator<AlarmRecord>): AsyncGenerator<StoreRecord[]> {
  let alarm = await alarms.next();
  let current: RoomRef | undefined;
  const closeRoom = async (out: StoreRecord[], room: RoomRef) => {
    if (!alarm.done && alarm.value.party === room.party && alarm.value.room === room.room) {
      out.push(alarm.value);
      alarm = await alarms.next();
    }
    out.push({ kind: "end", party: room.party, room: room.room, position: { after: [room.party, room.room] } });
  };
  /** Rooms that have an alarm and no entry, sorting before `room` (or all, without one). */
  const alarmOnlyBefore = async (out: StoreRecord[], room: RoomRef | undefined) => {
    while (!alarm.done && (room === undefined || compareRooms(alarm.value, room) < 0)) {
      const only = alarm.value;
      out.push(only, { kind: "end", party: only.party, room: only.room, position: { after: [only.party, only.room] } });
      alarm = await alarms.next();
    }
  };
  for await (const rows of entries) {
    const out: StoreRecord[] = [];
    for (const row of rows) {
      if (current === undefined || row.party !== current.party || row.room !== current.room) {
        if (current !== undefined) await closeRoom(out, current);
        current = { party: row.party, room: row.room };
        await alarmOnlyBefore(out, current);
      }
      out.push({ kind: "entry", party: row.party, room: row.room, key: row.key, value: row.value });
    }
    yield out;
  }
  const out: StoreRecord[] = [];
  if (current !== undefined) await closeRoom(out, current);
  await alarmOnlyBefore(out, undefined);
  if (out.length > 0) yield out;
}
