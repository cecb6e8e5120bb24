/**
 * One logger for the whole process. `start` writes one JSON object per line (for log
 * shippers); `dev` writes short human lines. Both go to stderr so stdout stays the program's.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  return {
    log(level, event, fields) {
      write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }) + "\n");
    },
  };
}

export function prettyLogger(write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  return {
    log(level, event, fields) {
      const details = fields
        ? Object.entries(fields)
            .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
            .join(" ")
        : "";
      const tag = level === "info" ? "" : `[${level}] `;
      write(`${tag}${event}${details ? " " + details : ""}\n`);
    },
  };
}

export const silentLogger: Logger = { log() {} };

/** Describes a thrown value for a log line without assuming it is an Error. */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    // A wrapper that keeps internal detail out of its message (StorageUnavailableError) keeps it here.
    const cause = error.cause instanceof Error ? { cause: error.cause.message } : {};
    return { error: error.message, ...cause, stack: error.stack };
  }
  return { error: String(error) };
}
