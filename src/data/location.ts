/**
 * Where a store is, as the commands take it: a `postgres://` URL (a cluster database) or a
 * folder. A folder may be the data folder (`--persist`, default `.partyhouse`), whose store is
 * `data/storage.sqlite3` inside it, or the folder holding storage.sqlite3 itself (or the file).
 */
import fs from "node:fs";
import path from "node:path";
import { DATABASE_FILE_NAME } from "../storage/sqlite-schema.js";
import { PgStore } from "./pg-store.js";
import { SqliteStore } from "./sqlite-store.js";
import type { Store } from "./store.js";

export type StoreLocation = { readonly kind: "postgres"; readonly url: string } | { readonly kind: "sqlite"; readonly dir: string };

export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//.test(text);
}

export function parseLocation(text: string, cwd: string): StoreLocation {
  if (isPostgresUrl(text)) return { kind: "postgres", url: text };
  return { kind: "sqlite", dir: sqliteFolder(path.resolve(cwd, text)) };
}

/** The folder whose storage.sqlite3 is the store (see the top of this file). */
export function sqliteFolder(given: string): string {
  if (path.basename(given) === DATABASE_FILE_NAME && isFile(given)) return path.dirname(given);
  if (isFile(path.join(given, DATABASE_FILE_NAME))) return given;
  return path.join(given, "data");
}

export async function openStore(location: StoreLocation, options: { write: boolean }): Promise<Store> {
  if (location.kind === "postgres") return PgStore.open(location.url, options);
  return SqliteStore.openFolder(location.dir, { create: options.write });
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
