import type { EventEmitter } from "node:events";

/**
 * Resolves on the stream's next 'drain', or on 'close', so a writer that waits for room in a
 * stream whose other end vanished is never left waiting.
 */
export function drained(stream: EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}
