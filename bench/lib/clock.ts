// One clock for every bench process. process.hrtime reads CLOCK_MONOTONIC, which is system-wide on
// Linux, so a timestamp taken in the sender is comparable with one taken in a receiver process.

/** Microseconds on the shared monotonic clock. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves at `atUs` on the shared clock (immediately if already past). */
export function sleepUntil(atUs: number): Promise<void> {
  return sleep(Math.max(0, (atUs - nowUs()) / 1000));
}
