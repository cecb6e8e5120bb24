/**
 * One file on disk as a Response: read at request time (so edits show up without a restart),
 * validated cheaply from size and mtime, small files in one read, large ones streamed.
 */
import { open, type FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import { LazyResponse } from "./lazy-response.js";
import { contentTypeOf } from "./mime.js";

/** Files up to this size are read whole: one read beats a stream's setup for typical assets. */
const READ_WHOLE_LIMIT = 64 * 1024;

/** Errors that mean "there is no such servable file" rather than a server fault. */
const MISSING = new Set(["ENOENT", "ENOTDIR", "EISDIR", "EACCES", "EPERM", "ENAMETOOLONG", "ELOOP"]);

export interface FileResponseOptions {
  /** Headers only (HEAD). */
  head: boolean;
  status: number;
  cacheControl: string;
  /** The request's conditional headers; a match answers 304 (only for status 200). */
  ifNoneMatch?: string | null;
  ifModifiedSince?: string | null;
  /** The name the client asked for, when `file` is a symlink's resolved target: it decides the type. */
  requestedName?: string;
}

/** The file as a Response, or null if it does not exist or is not a regular file. */
export async function fileResponse(file: string, options: FileResponseOptions): Promise<Response | null> {
  let handle: FileHandle;
  try {
    handle = await open(file, "r");
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
  let handedOff = false;
  try {
    // fstat on the open handle: metadata and content come from the same file even if an
    // editor or bundler swaps it in by rename meanwhile.
    const stat = await handle.stat({ bigint: true });
    if (!stat.isFile()) return null;
    const headers: Record<string, string> = {
      etag: `W/"${stat.size.toString(16)}-${stat.mtimeNs.toString(16)}"`,
      "last-modified": new Date(Number(stat.mtimeMs)).toUTCString(),
      "cache-control": options.cacheControl,
    };
    if (options.status === 200 && isNotModified(options, headers.etag!, Number(stat.mtimeMs))) {
      return bytesResponse(null, 304, headers);
    }
    const size = Number(stat.size);
    headers["content-type"] = contentTypeOf(options.requestedName ?? file);
    headers["content-length"] = String(size);
    if (options.head) return bytesResponse(null, options.status, headers);

    if (size <= READ_WHOLE_LIMIT) {
      const data = await handle.readFile();
      headers["content-length"] = String(data.length);
      return bytesResponse(data, options.status, headers);
    }
    // Never more than the advertised length, even if the file grows while we send it.
    const stream = handle.createReadStream({ start: 0, end: size - 1 });
    handedOff = true; // the stream closes the handle when it ends or is cancelled
    return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, { status: options.status, headers });
  } finally {
    if (!handedOff) await handle.close();
  }
}

function isNotModified(options: FileResponseOptions, etag: string, mtimeMs: number): boolean {
  const ifNoneMatch = options.ifNoneMatch;
  // If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
  if (ifNoneMatch) return etagListMatches(ifNoneMatch, etag);
  const ifModifiedSince = options.ifModifiedSince;
  if (!ifModifiedSince) return false;
  const since = Date.parse(ifModifiedSince);
  // HTTP dates have whole seconds.
  return !Number.isNaN(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
}

/** Weak comparison, as If-None-Match requires: W/"x" and "x" are the same. */
function etagListMatches(list: string, etag: string): boolean {
  if (list.trim() === "*") return true;
  const ours = stripWeak(etag);
  return list.split(",").some((candidate) => stripWeak(candidate.trim()) === ours);
}

function stripWeak(tag: string): string {
  return tag.startsWith("W/") ? tag.slice(2) : tag;
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && MISSING.has(code);
}

/** Known bytes go out in one write, with no stream in between (see LazyResponse). */
function bytesResponse(body: Uint8Array | null, status: number, headers: Record<string, string>): Response {
  return new LazyResponse(body as BodyInit | null, { status, headers }) as unknown as Response;
}
