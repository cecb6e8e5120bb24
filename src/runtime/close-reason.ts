/** Close codes and reasons as the WebSocket protocol allows them (RFC 6455 §7.4, §5.5). */

/** Close reasons are limited to 123 bytes by the protocol. */
const MAX_CLOSE_REASON_BYTES = 123;

/** The codes an application may send: 1000, or 3000-4999 (registered and private use). */
export function isValidCloseCode(code: number): boolean {
  return code === 1000 || (code >= 3000 && code <= 4999);
}

export function truncateReason(reason: string): string {
  const bytes = Buffer.from(reason);
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return reason;
  // Cut on a character boundary so the reason stays valid UTF-8.
  return new TextDecoder().decode(bytes.subarray(0, MAX_CLOSE_REASON_BYTES)).replace(/\uFFFD+$/, "");
}

/** A thrown value as a close reason (1011 after onConnect throws). */
export function closeReason(error: unknown): string {
  return truncateReason(error instanceof Error ? error.message : String(error));
}
