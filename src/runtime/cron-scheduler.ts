import { parseCron, type CronSchedule } from "./cron.js";
import { describeError, type Logger } from "./logger.js";

/** Runs one named cron; the project routes it to main's onCron. */
export type RunCron = (name: string, expression: string, scheduledTime: number) => Promise<void>;

/** Node timers overflow past ~24.8 days; longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Fires `partykit.json#crons` on their schedules, one timer per cron. A run that throws is
 * logged; the next run happens on schedule. Runs that were due while the process was down are
 * not made up (as on Cloudflare).
 */
export class CronScheduler {
  private readonly schedules: Array<{ name: string; schedule: CronSchedule }>;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    crons: Record<string, string>,
    private readonly run: RunCron,
    private readonly logger: Logger,
  ) {
    // Parse everything up front so a bad expression fails start-up, not a run months later.
    this.schedules = Object.entries(crons).map(([name, expression]) => ({ name, schedule: parseCron(expression) }));
  }

  start(): void {
    for (const { name, schedule } of this.schedules) this.arm(name, schedule, schedule.next(Date.now()));
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private arm(name: string, schedule: CronSchedule, due: number): void {
    if (this.stopped) return;
    const wait = due - Date.now();
    const timer = setTimeout(
      () => {
        if (Date.now() < due) return this.arm(name, schedule, due);
        this.run(name, schedule.expression, due).catch((error) =>
          this.logger.log("error", "onCron failed", { cron: name, ...describeError(error) }),
        );
        this.arm(name, schedule, schedule.next(Math.max(due, Date.now())));
      },
      Math.min(Math.max(0, wait), MAX_TIMER_MS),
    );
    timer.unref();
    this.timers.set(name, timer);
  }
}
