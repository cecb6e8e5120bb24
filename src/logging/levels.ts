/** `--log-level`: the least severe level written. */
import type { Logger, LogLevel } from "../runtime/logger.js";

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** Drops lines below `level` (the pretty logger has no levels of its own). */
export function atLeast(level: LogLevel, logger: Logger): Logger {
  const minimum = LOG_LEVELS.indexOf(level);
  return {
    log(lineLevel, event, fields) {
      if (LOG_LEVELS.indexOf(lineLevel) >= minimum) logger.log(lineLevel, event, fields);
    },
  };
}
