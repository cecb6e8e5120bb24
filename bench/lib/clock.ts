// One clock for every bench process. process.hrtime reads CLOCK_MONOTONIC, which is system-wide on
// Linux, so a timestamp taken in the sender is comparable with one taken in a receiver process.

/** Microseconds on the shared monotonic clock. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resolves at `atUs` on the shared clock (immediately if already past). A timer may fire up to a
 * millisecond early by this clock (libuv times it from its cached loop time), so it is re-armed
 * until the time has really come: a load that starts early would send work the window ignores.
 */
export async function sleepUntil(atUs: number): Promise<void> {
  for (let left = atUs - nowUs(); left > 0; left = atUs - nowUs()) await sleep(left / 1000);
}
