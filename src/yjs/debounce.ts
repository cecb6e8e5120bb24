/**
 * A trailing debounce with a maximum wait, for onSave / y-partykit's `callback`: runs `fn` once
 * changes stop for `wait` ms, and at least every `maxWait` ms while they keep coming. Timers are
 * unref'd so a pending save never keeps the process alive; `flush` runs a pending call now.
 */
export interface Debounced {
  (): void;
  flush(): void;
  cancel(): void;
}

export function debounce(fn: () => void, wait: number, maxWait: number): Debounced {
  let timer: NodeJS.Timeout | undefined;
  let firstCall: number | undefined;
  const run = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    firstCall = undefined;
    fn();
  };
  const debounced = (() => {
    const now = Date.now();
    firstCall ??= now;
    const delay = Math.max(0, Math.min(wait, firstCall + maxWait - now));
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, delay);
    timer.unref();
  }) as Debounced;
  debounced.flush = () => {
    if (timer) run();
  };
  debounced.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    firstCall = undefined;
  };
  return debounced;
}
