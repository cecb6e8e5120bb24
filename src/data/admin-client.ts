/**
 * The client side of `GET /api/snapshot` (src/admin/data-routes.ts): a running server's store,
 * copied consistently while it serves, saved to a local file for the export writer to read.
 */
import fs from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { SyncedFileWriter } from "./synced-file.js";

export const SNAPSHOT_AT_HEADER = "x-partyhouse-snapshot-at";

export interface DownloadedSnapshot {
  readonly file: string;
  readonly bytes: number;
  /** When the copy equalled the server's database (ISO), as the server says. */
  readonly at: string | undefined;
}

export async function downloadSnapshot(adminUrl: string, token: string | undefined, file: string): Promise<DownloadedSnapshot> {
  const url = new URL("/api/snapshot", adminUrl);
  let response: Response;
  try {
    response = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  } catch (error) {
    throw new Error(`cannot reach the admin listener at ${url.origin} (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message})`);
  }
  if (response.status !== 200 || response.body === null) {
    const text = (await response.text()).trim();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // Not JSON: the text itself.
    }
    throw new Error(`the admin listener at ${url.origin} answered ${response.status}: ${message}`);
  }
  const expected = Number(response.headers.get("content-length"));
  await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), new SyncedFileWriter(file));
  const bytes = fs.statSync(file).size;
  if (Number.isFinite(expected) && bytes !== expected) throw new Error(`the snapshot download stopped after ${bytes} of ${expected} bytes`);
  return { file, bytes, at: response.headers.get(SNAPSHOT_AT_HEADER) ?? undefined };
}
