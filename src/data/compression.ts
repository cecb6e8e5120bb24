/**
 * Exports may be gzipped: written so when the file name ends in `.gz`, and recognized by their
 * first two bytes when read (from a file or stdin alike).
 */
import { Readable, pipeline, type Writable } from "node:stream";
import { constants, createGunzip, createGzip } from "node:zlib";

const GZIP_MAGIC = [0x1f, 0x8b] as const;

export function wantsGzip(path: string): boolean {
  return path.endsWith(".gz");
}

/** Level 1: a backup of a busy store should be limited by the disk, not by deflate. */
export function gzipStream(): Writable & Readable {
  return createGzip({ level: constants.Z_BEST_SPEED });
}

/** The stream's bytes, gunzipped when they start with the gzip magic. */
export async function maybeGunzip(input: Readable): Promise<Readable> {
  const iterator = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return Readable.from([]);
  const head = typeof first.value === "string" ? Buffer.from(first.value, "utf8") : first.value;
  const rejoined = Readable.from(
    (async function* () {
      yield head;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    })(),
  );
  if (head.length < 2 || head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) return rejoined;
  const gunzip = createGunzip();
  // pipeline passes a read error on to gunzip, whose reader sees it.
  pipeline(rejoined, gunzip, () => {});
  return gunzip;
}
