/** workerd's `scheduler` global: `await scheduler.wait(ms)`, cancellable with `{ signal }`. */
import { setTimeout as sleep } from "node:timers/promises";

export const scheduler = {
  wait(delay: number, options?: { signal?: AbortSignal }): Promise<void> {
    return sleep(delay, undefined, options?.signal ? { signal: options.signal } : undefined);
  },
};
