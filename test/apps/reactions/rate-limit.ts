import type * as Party from "partykit/server";

/** The per-connection state the limiter keeps: properties on the connection object itself. */
type Limited = Party.Connection & { nextAllowedTime?: number; violations?: number };

export const SLOW_DOWN = "slow down";
export const GO_AWAY = "go away";

/**
 * A per-connection rate limiter in the style of PartyKit's reactions example: the earliest time
 * of the next allowed action and a violation count are properties set on the connection, and
 * mirrored into its attachment so they survive hibernation.
 */
export function rateLimit(connection: Party.Connection, cooldownMs: number, action: () => void): void {
  const limited = connection as Limited;
  if (limited.nextAllowedTime === undefined) {
    const saved = connection.deserializeAttachment<{ nextAllowedTime: number; violations: number } | null>();
    limited.nextAllowedTime = saved?.nextAllowedTime ?? 0;
    limited.violations = saved?.violations ?? 0;
  }
  const now = Date.now();
  if (now < limited.nextAllowedTime) {
    limited.violations = (limited.violations ?? 0) + 1;
    if (limited.violations >= 10) {
      connection.send(GO_AWAY);
      connection.close(4029, "too many reactions");
    } else {
      connection.send(SLOW_DOWN);
    }
  } else {
    limited.violations = 0;
    action();
  }
  limited.nextAllowedTime = Math.max(now, limited.nextAllowedTime) + cooldownMs;
  connection.serializeAttachment({ nextAllowedTime: limited.nextAllowedTime, violations: limited.violations });
}
