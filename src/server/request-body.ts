import type { IncomingMessage } from "node:http";
import { BodyTooLargeError, type BodyMeter } from "./body-budget.js";

/**
 * A request's body as a web stream that touches the socket only when someone reads it.
 *
 * `Readable.toWeb(req)` starts consuming at once; a handler that never reads the body then
 * leaves it paused half-way and the keep-alive connection stalls. Left alone, Node discards
 * an unread body by itself once the response is sent, so this stream stays lazy
 * (highWaterMark 0: nothing is pulled before the first read) and hands over one chunk per
 * read; a cancelled body is discarded the same way.
 *
 * With a `meter`, every chunk is counted before user code sees it: past the body limit or the
 * process-wide budget the stream fails and reading stops (the socket stays paused, so the rest
 * of the body is never buffered); the front door then answers 413 or 503 and closes.
 */
export function requestBodyOf(req: IncomingMessage, meter?: BodyMeter): ReadableStream<Uint8Array> {
  let listening = false;
  let settled = false;
  const onCancel = () => {
    req.removeAllListeners("data");
    req.resume();
  };
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (!listening) {
          listening = true;
          req.on("data", (chunk: Buffer) => {
            req.pause();
            if (meter !== undefined && !meter.add(chunk.byteLength)) {
              req.removeAllListeners("data");
              const why = meter.failure === 413 ? "is larger than the limit" : "does not fit in the server's body budget now";
              settle(new BodyTooLargeError(`Request body ${why}`));
              return;
            }
            controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          });
          const settle = (error?: Error) => {
            if (settled) return;
            settled = true;
            if (error) controller.error(error);
            else controller.close();
          };
          req.once("end", () => settle());
          req.once("error", (error) => settle(error));
          req.once("close", () => {
            // A complete body still ends normally, even if the client hung up meanwhile.
            if (!req.complete) settle(new Error("The client closed the connection before the request body was complete"));
          });
        }
        if (!settled) req.resume();
      },
      cancel: onCancel,
    },
    { highWaterMark: 0 },
  );
}
