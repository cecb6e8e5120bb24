/**
 * The `start` logger: one JSON object per line through pino (level, time, event, then the
 * fields: party, room, handler, stack, ...), for log shippers. pino writes synchronously to the
 * given sink, so a line is out before the process can exit.
 */
import { pino } from "pino";
import type { Logger, LogLevel } from "../runtime/logger.js";

/** `fields` go on every line (a worker's `{ worker: 2 }`). */
export function pinoLogger(write: (line: string) => void, level: LogLevel = "info", fields?: Record<string, unknown>): Logger {
  const log = pino(
    {
      level,
      base: fields,
      messageKey: "event",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    { write: (line: string) => write(line) },
  );
  return {
    log(lineLevel, event, fields) {
      log[lineLevel](fields ?? {}, event);
    },
  };
}
