/**
 * SIGINT/SIGTERM: close gracefully (sockets, then storage is flushed) and exit 0. A second
 * signal, or a close that hangs, exits at once with 1 rather than leaving the user stuck.
 */
export const FORCED_EXIT_AFTER_MS = 10_000;

export function onShutdownSignal(shutdown: (signal: NodeJS.Signals) => Promise<void>, exit: (code: number) => void): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      exit(1);
      return;
    }
    stopping = true;
    const timer = setTimeout(() => exit(1), FORCED_EXIT_AFTER_MS);
    timer.unref();
    shutdown(signal).then(
      () => exit(0),
      () => exit(1),
    );
  };
  process.on("SIGINT", handle);
  process.on("SIGTERM", handle);
}
