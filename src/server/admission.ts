/**
 * What is refused before any user code runs: requests from Origins that are not allowed (403),
 * bodies whose Content-Length is over the limit (413) or does not fit the process-wide budget
 * now (503), and anything arriving while the server drains for shutdown (503).
 */
import type { IncomingMessage } from "node:http";
import type { BodyBudget, BodyFailure } from "./body-budget.js";
import { RETRY_AFTER_SECONDS, normalizeOrigin, type ResolvedExposure } from "./limits.js";

export interface Refusal {
  status: 403 | 413 | 503;
  message: string;
}

export function refusalFor(failure: BodyFailure): Refusal {
  return failure === 413
    ? { status: 413, message: "Request body is larger than the limit" }
    : { status: 503, message: "Server is busy reading other request bodies; retry shortly" };
}

export const DRAINING: Refusal = { status: 503, message: "Server is shutting down" };

/** An Origin this server does not accept, or null. Same-origin requests (Origin = Host) pass. */
export function refusedOrigin(req: IncomingMessage, exposure: ResolvedExposure): Refusal | null {
  const allowed = exposure.allowedOrigins;
  if (allowed === null) return null;
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  const normalized = normalizeOrigin(origin);
  if (allowed.has(normalized)) return null;
  const host = req.headers.host;
  if (host !== undefined && (normalized === `http://${host}` || normalized === `https://${host}`)) return null;
  return { status: 403, message: `Origin ${origin} is not allowed` };
}

/** A declared body size that is refused at once, before reading a byte of it. */
export function refusedLength(req: IncomingMessage, exposure: ResolvedExposure, budget: BodyBudget): Refusal | null {
  const header = declaredLength(req.rawHeaders);
  if (header === undefined) return null;
  const length = Number(header);
  if (!Number.isFinite(length)) return null; // Node's parser already rejects malformed lengths
  if (length > exposure.maxBodyBytes) return refusalFor(413);
  if (!budget.fits(length)) return refusalFor(503);
  return null;
}

/**
 * The first Content-Length, as `req.headers` would give it (Node keeps the first of repeated
 * ones), read from the raw list: `req.headers` is built on first use, lowercasing every header
 * into a new object, which a request without a body would otherwise never pay for.
 */
function declaredLength(raw: readonly string[]): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 14 && name.toLowerCase() === "content-length") return raw[i + 1];
  }
  return undefined;
}

/**
 * Headers for a refusal. The body is left unread, so the connection closes after the answer
 * rather than draining up to the limit first.
 */
export function refusalHeaders(refusal: Refusal): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(Buffer.byteLength(refusal.message)),
    connection: "close",
  };
  if (refusal.status === 503) headers["retry-after"] = String(RETRY_AFTER_SECONDS);
  return headers;
}

export function refusalResponse(refusal: Refusal): Response {
  return new Response(refusal.message, { status: refusal.status, headers: refusalHeaders(refusal) });
}
