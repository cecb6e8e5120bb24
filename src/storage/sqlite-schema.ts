/**
 * One database for every room of the process (a file per room would cap room creation, see
 * performance notes). Rooms are interned to integer ids so each key row carries 8 bytes of room,
 * not the names. Keys are UTF-8 BLOBs: SQLite compares BLOBs with memcmp, which is exactly the
 * UTF-8 byte order Durable Objects list in. `meta` holds INCOMPLETE_MARK while a restore, import
 * or migrate (src/data) writes the database; the engine refuses to open it then.
 */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS rooms (
  id INTEGER PRIMARY KEY,
  party TEXT NOT NULL,
  room TEXT NOT NULL,
  UNIQUE (party, room)
);
CREATE TABLE IF NOT EXISTS kv (
  room_id INTEGER NOT NULL,
  key BLOB NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (room_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alarms (
  room_id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL
);
-- The supervisor of --workers asks every second for the alarms due soon (listAlarmsDue).
CREATE INDEX IF NOT EXISTS alarms_by_time ON alarms (time);
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

export const DATABASE_FILE_NAME = "storage.sqlite3";

/** meta key present while src/data writes the store; its value says which operation. */
export const INCOMPLETE_MARK = "incomplete";
