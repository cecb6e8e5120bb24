/**
 * Cron expressions as Cloudflare schedules them (five fields, UTC): minute, hour, day of
 * month, month, day of week. Supports `*`, values, ranges, steps and lists, and month / day
 * names. As in standard cron, when both day fields are restricted a day matching either runs.
 */
export interface CronSchedule {
  readonly expression: string;
  /** The first time strictly after `after` that the schedule matches (whole minutes, UTC). */
  next(after: number): number;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  readonly namesStart?: number;
}

const FIELDS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS, namesStart: 1 },
  { name: "day of week", min: 0, max: 7, names: DAYS, namesStart: 0 },
];

/** How far ahead `next` looks before deciding a schedule never matches (e.g. 30 February). */
const HORIZON_MS = 5 * 366 * 24 * 3600 * 1000;

export function parseCron(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`cron "${expression}": expected 5 fields, got ${parts.length}`);
  const [minutes, hours, days, months, weekdays] = parts.map((part, i) => parseField(part, FIELDS[i]!, expression));
  // 7 is another name for Sunday.
  if (weekdays!.has(7)) weekdays!.add(0);
  const dayRestricted = parts[2] !== "*";
  const weekdayRestricted = parts[4] !== "*";

  const dayMatches = (date: Date): boolean => {
    const byDay = days!.has(date.getUTCDate());
    const byWeekday = weekdays!.has(date.getUTCDay());
    if (dayRestricted && weekdayRestricted) return byDay || byWeekday;
    if (dayRestricted) return byDay;
    if (weekdayRestricted) return byWeekday;
    return true;
  };

  return {
    expression,
    next(after) {
      const date = new Date(Math.floor(after / 60_000) * 60_000 + 60_000);
      const limit = after + HORIZON_MS;
      while (date.getTime() <= limit) {
        if (!months!.has(date.getUTCMonth() + 1)) {
          date.setUTCMonth(date.getUTCMonth() + 1, 1);
          date.setUTCHours(0, 0, 0, 0);
        } else if (!dayMatches(date)) {
          date.setUTCDate(date.getUTCDate() + 1);
          date.setUTCHours(0, 0, 0, 0);
        } else if (!hours!.has(date.getUTCHours())) {
          date.setUTCHours(date.getUTCHours() + 1, 0, 0, 0);
        } else if (!minutes!.has(date.getUTCMinutes())) {
          date.setUTCMinutes(date.getUTCMinutes() + 1, 0, 0);
        } else {
          return date.getTime();
        }
      }
      throw new Error(`cron "${expression}" never matches`);
    },
  };
}

function parseField(text: string, spec: FieldSpec, expression: string): Set<number> {
  const values = new Set<number>();
  const fail = (why: string): never => {
    throw new Error(`cron "${expression}": ${spec.name} "${text}" ${why}`);
  };
  for (const item of text.split(",")) {
    const [range, stepText] = item.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) fail("has an invalid step");
    let from: number;
    let to: number;
    if (range === "*") {
      from = spec.min;
      to = spec.max;
    } else {
      const [a, b] = range!.split("-");
      from = valueOf(a!, spec) ?? fail("is not a valid value");
      to = b === undefined ? (stepText === undefined ? from : spec.max) : (valueOf(b, spec) ?? fail("is not a valid value"));
    }
    if (from < spec.min || to > spec.max || from > to) fail(`is outside ${spec.min}-${spec.max}`);
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function valueOf(text: string, spec: FieldSpec): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const index = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  return index >= 0 ? index + (spec.namesStart ?? 0) : undefined;
}
