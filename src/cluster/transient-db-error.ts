/**
 * Which failures of a statement mean "the database could not be reached or refused for now",
 * so the same statement may simply be sent again: every statement the storage engine retries is
 * idempotent (reads; a group commit's upserts, deletes and alarm writes, whose fence re-checks
 * the epoch each time).
 */

/** Socket-level failures (Node's error codes). */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);

/**
 * SQLSTATEs: server shutting down or restarting (57P01–57P03), too many connections (53300),
 * serialization failure and deadlock (40001, 40P01; the statement was rolled back). Class 08
 * (connection exception) is matched by its prefix.
 */
const RETRYABLE_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300", "40001", "40P01"]);

/** node-postgres reports a dropped, timed-out or broken connection by message, without a code. */
const DROPPED = /Connection terminated|timeout exceeded when trying to connect|not queryable|connection timeout/i;

export function isTransientDatabaseError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (NETWORK_CODES.has(code) || RETRYABLE_SQLSTATES.has(code) || code.startsWith("08"))) return true;
  return DROPPED.test(error.message);
}
