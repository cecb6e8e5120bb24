/**
 * Cron expressions as Cloudflare schedules them (five fields, UTC): minute, hour, day of
 * month, month, day of week, parsed by croner. `*`, values, ranges, steps, lists, month / day
 * names and 7 for Sunday, and Cloudflare's `L`, `W`, `#` and `?`. As in standard cron, when both
 * day fields are restricted a day matching either runs.
 */
import { Cron } from "croner";

export interface CronSchedule {
  readonly expression: string;
  /** The first time strictly after `after` that the schedule matches (whole minutes, UTC). */
  next(after: number): number;
}

export function parseCron(expression: string): CronSchedule {
  let cron: Cron;
  try {
    cron = new Cron(expression, {
      timezone: "UTC",
      mode: "5-part",
      // Either day field matching runs (Vixie cron's rule, and Cloudflare's).
      domAndDow: false,
      // `5/15` (from 5, every 15) stays accepted, as the parser before croner took it.
      sloppyRanges: true,
      paused: true,
    });
  } catch (error) {
    throw new Error(`cron "${expression}": ${(error as Error).message.replace(/^CronPattern: /, "")}`);
  }
  return {
    expression,
    next(after) {
      const next = cron.nextRun(new Date(after));
      if (next === null) throw new Error(`cron "${expression}" never matches`);
      return next.getTime();
    },
  };
}
