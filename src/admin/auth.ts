/**
 * Who may use the admin listener. On a loopback address it is as reachable as the machine, so
 * a token is optional; bound anywhere else it exposes room data and must have one. The token is
 * compared in constant time (both sides hashed to equal length first, so neither the content
 * nor the length of the token leaks through timing).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

export const ADMIN_TOKEN_ENV = "PARTYHOUSE_ADMIN_TOKEN";

export class AdminConfigError extends Error {
  override name = "AdminConfigError";
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (bare === "localhost" || bare === "::1") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  return /^::ffff:127\./i.test(bare);
}

/** Throws the one line to print when a non-loopback admin address has no token. */
export function checkAdminBinding(host: string, token: string | undefined): void {
  if (token !== undefined && token.length < 16) {
    throw new AdminConfigError("the admin token must be at least 16 characters long");
  }
  if (!isLoopback(host) && token === undefined) {
    throw new AdminConfigError(
      `the admin listener on ${host} is reachable from other machines and needs a token: ` +
        `pass --admin-token <token> or set ${ADMIN_TOKEN_ENV} (or bind it to 127.0.0.1)`,
    );
  }
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** Checks `Authorization: Bearer <token>` against the expected token, in constant time. */
export function tokenMatches(req: IncomingMessage, expected: Buffer): boolean {
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(.+)$/i.exec(header);
  const given = digest(match?.[1]?.trim() ?? "");
  return timingSafeEqual(given, expected) && match !== null;
}

export function tokenDigest(token: string): Buffer {
  return digest(token);
}

/** Whether a Host header names this machine by IP address or localhost (not a DNS name a page could rebind). */
export function hostHeaderIsLocal(header: string | undefined): boolean {
  if (header === undefined) return true;
  const name = header.startsWith("[") ? header.slice(0, header.indexOf("]") + 1) : header.replace(/:\d+$/, "");
  return isLoopback(name) || /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.startsWith("[");
}
