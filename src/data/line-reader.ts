/**
 * Lines of a byte stream, a chunk's worth at a time, in constant memory (bounded by the longest
 * line). A line longer than `maxLineBytes` is an error rather than a reason to buffer without end.
 */
import type { Readable } from "node:stream";

/** Longer than any record partyhouse writes: a 128 KiB value in base64 plus a 2 KiB key, escaped. */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

export async function* readLines(input: Readable, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<string[]> {
  let rest: Buffer | undefined;
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    const data = rest === undefined ? bytes : Buffer.concat([rest, bytes]);
    const lines: string[] = [];
    let start = 0;
    for (let end = data.indexOf(10, start); end !== -1; end = data.indexOf(10, start)) {
      lines.push(data.toString("utf8", start, end > start && data[end - 1] === 13 ? end - 1 : end));
      start = end + 1;
    }
    rest = start < data.length ? data.subarray(start) : undefined;
    if (rest !== undefined && rest.length > maxLineBytes) throw new Error(`a line is longer than ${maxLineBytes} bytes: not a partyhouse export`);
    // Copy the remainder off the chunk, so a short tail does not pin the whole chunk.
    if (rest !== undefined) rest = Buffer.from(rest);
    if (lines.length > 0) yield lines;
  }
  if (rest !== undefined && rest.length > 0) yield [rest.toString("utf8")];
}
