/**
 * The cluster's tables, created or migrated on start in the database the URL names. Several
 * nodes may start at once on an empty database, so migrations run under one advisory lock.
 *
 * - ph_meta: schema version and the cluster secret (random, stored once, shared by all nodes);
 *   while a restore, import or migrate fills the database, its INCOMPLETE_MARK (nodes refuse to start).
 * - ph_nodes: one row per node; `incarnation` is new on every registration; the lease is judged
 *   by the database clock.
 * - ph_rooms: the owner of every room that was ever claimed; `owner_epoch` only grows and is the
 *   fence token of the owner's storage commits. owner_node NULL = released.
 * - ph_kv / ph_alarms: room storage. Keys are bytea, so PostgreSQL orders them by their UTF-8
 *   bytes (memcmp), exactly as the SQLite engine's BLOB keys.
 */
import { randomBytes } from "node:crypto";
import type pg from "pg";
import { IncompleteStoreError } from "../storage/incomplete-store-error.js";

/** Arbitrary constant: the advisory lock that serializes migrations across nodes. */
const MIGRATION_LOCK = 0x7068_6d69; // "phmi"

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE ph_nodes (
    node_id text COLLATE "C" PRIMARY KEY,
    incarnation bigint NOT NULL,
    address text NOT NULL,
    lease_expires_at timestamptz NOT NULL,
    draining boolean NOT NULL DEFAULT false,
    registered_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE ph_rooms (
    party text COLLATE "C" NOT NULL,
    room text COLLATE "C" NOT NULL,
    owner_node text COLLATE "C",
    owner_incarnation bigint,
    owner_epoch bigint NOT NULL,
    claimed_at timestamptz NOT NULL,
    PRIMARY KEY (party, room)
  );
  CREATE INDEX ph_rooms_owner ON ph_rooms (owner_node, owner_incarnation);
  CREATE TABLE ph_kv (
    party text COLLATE "C" NOT NULL,
    room text COLLATE "C" NOT NULL,
    key bytea NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (party, room, key)
  );
  CREATE TABLE ph_alarms (
    party text COLLATE "C" NOT NULL,
    room text COLLATE "C" NOT NULL,
    time bigint NOT NULL,
    PRIMARY KEY (party, room)
  );
  CREATE INDEX ph_alarms_time ON ph_alarms (time);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** ph_meta key present while a restore, import or migrate (src/data) writes the database. */
export const INCOMPLETE_MARK = "incomplete";

/** Creates or migrates the schema; returns the cluster secret. */
export async function migrate(pool: pg.Pool): Promise<{ secret: string }> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await client.query("CREATE TABLE IF NOT EXISTS ph_meta (key text PRIMARY KEY, value text NOT NULL)");
    const version = await client.query<{ value: string }>("SELECT value FROM ph_meta WHERE key = 'schema_version'");
    const current = version.rows.length === 0 ? 0 : Number(version.rows[0]!.value);
    if (current > SCHEMA_VERSION) {
      throw new Error(`the cluster database has schema version ${current}; this partyhouse knows up to ${SCHEMA_VERSION} (upgrade it)`);
    }
    // A node must not serve a database that src/data is still filling (or left half-filled).
    const mark = await client.query<{ value: string }>("SELECT value FROM ph_meta WHERE key = $1", [INCOMPLETE_MARK]);
    if (mark.rows.length > 0) throw new IncompleteStoreError("The cluster database", mark.rows[0]!.value);
    for (let next = current; next < SCHEMA_VERSION; next++) await client.query(MIGRATIONS[next]!);
    await client.query(
      "INSERT INTO ph_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      [String(SCHEMA_VERSION)],
    );
    await client.query("INSERT INTO ph_meta (key, value) VALUES ('secret', $1) ON CONFLICT (key) DO NOTHING", [
      randomBytes(32).toString("hex"),
    ]);
    const secret = await client.query<{ value: string }>("SELECT value FROM ph_meta WHERE key = 'secret'");
    await client.query("COMMIT");
    return { secret: secret.rows[0]!.value };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
