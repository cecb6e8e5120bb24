import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCron } from "./cron.js";

const at = (iso: string) => Date.parse(iso);
const next = (expression: string, after: string) => new Date(parseCron(expression).next(at(after))).toISOString();

describe("cron schedules (UTC)", () => {
  it("steps to the next matching minute, strictly after the given time", () => {
    assert.equal(next("* * * * *", "2026-01-01T10:00:00Z"), "2026-01-01T10:01:00.000Z");
    assert.equal(next("* * * * *", "2026-01-01T10:00:30Z"), "2026-01-01T10:01:00.000Z");
    assert.equal(next("*/15 * * * *", "2026-01-01T10:07:00Z"), "2026-01-01T10:15:00.000Z");
    assert.equal(next("30 9 * * *", "2026-01-01T10:00:00Z"), "2026-01-02T09:30:00.000Z");
  });

  it("handles ranges, lists, names, and rolls over months and years", () => {
    assert.equal(next("0 0 1 JAN *", "2026-03-05T00:00:00Z"), "2027-01-01T00:00:00.000Z");
    assert.equal(next("0 12 * * MON-FRI", "2026-11-21T13:00:00Z"), "2026-11-23T12:00:00.000Z"); // Saturday → Monday
    assert.equal(next("5,10 8-9 * * *", "2026-01-01T08:06:00Z"), "2026-01-01T08:10:00.000Z");
    assert.equal(next("0 0 29 2 *", "2026-01-01T00:00:00Z"), "2028-02-29T00:00:00.000Z");
    assert.equal(next("0 0 * * 7", "2026-11-23T00:00:00Z"), "2026-11-29T00:00:00.000Z"); // 7 = Sunday
  });

  it("matches either day field when both are restricted, as cron does", () => {
    // The 1st of the month or any Friday, whichever comes first.
    assert.equal(next("0 0 1 * FRI", "2026-11-23T00:00:00Z"), "2026-11-27T00:00:00.000Z");
  });

  it("gives the times the hand-written parser before croner gave", () => {
    // Computed with that parser; croner agreed on these and on 400 more pairs when it came in.
    const cases: Array<[string, string, string]> = [
      ["0 0 */2 * MON", "2026-11-21T13:00:00Z", "2026-11-23T00:00:00.000Z"],
      ["0 0 1-7 * MON", "2026-11-21T13:00:00Z", "2026-11-23T00:00:00.000Z"],
      ["*/7 */5 * * *", "2026-01-01T10:00:30Z", "2026-01-01T10:07:00.000Z"],
      ["0 0 * * 0,7", "2026-11-23T00:00:00Z", "2026-11-29T00:00:00.000Z"],
      ["0 0 * * 5-7", "2026-11-23T00:00:00Z", "2026-11-27T00:00:00.000Z"],
      ["0 9-17/2 * * 1-5", "2026-11-21T13:00:00Z", "2026-11-23T09:00:00.000Z"],
      ["1-59/2 * * * *", "2026-01-01T10:00:30Z", "2026-01-01T10:01:00.000Z"],
      ["5/15 * * * *", "2026-01-01T10:21:00Z", "2026-01-01T10:35:00.000Z"],
      ["0 0 5/10 * *", "2026-01-26T00:00:00Z", "2026-02-05T00:00:00.000Z"],
      ["0 0 31 * *", "2026-02-01T00:00:00Z", "2026-03-31T00:00:00.000Z"],
      ["15 3 * JUN-AUG *", "2026-08-31T03:15:00Z", "2027-06-01T03:15:00.000Z"],
      ["0 0 * * mon,wed,fri", "2026-11-21T13:00:00Z", "2026-11-23T00:00:00.000Z"],
      ["59 23 31 12 *", "2027-12-31T23:59:59.999Z", "2028-12-31T23:59:00.000Z"],
      ["0 0 * 3/4 *", "2026-04-01T00:00:00Z", "2026-07-01T00:00:00.000Z"],
    ];
    for (const [expression, after, expected] of cases) assert.equal(next(expression, after), expected, expression);
  });

  it("takes Cloudflare's L, W, # and ?, which the parser before croner refused", () => {
    assert.equal(next("0 0 L * *", "2026-02-01T00:00:00Z"), "2026-02-28T00:00:00.000Z"); // last day of the month
    assert.equal(next("0 0 15W * *", "2026-11-01T00:00:00Z"), "2026-11-16T00:00:00.000Z"); // weekday nearest the 15th (a Sunday)
    assert.equal(next("0 0 * * 5#3", "2026-01-01T00:00:00Z"), "2026-01-16T00:00:00.000Z"); // third Friday
    assert.equal(next("0 0 * * 5L", "2026-01-01T00:00:00Z"), "2026-01-30T00:00:00.000Z"); // last Friday
    assert.equal(next("0 0 ? * *", "2026-01-01T00:00:00Z"), "2026-01-02T00:00:00.000Z");
  });

  it("rejects malformed expressions, naming the expression", () => {
    assert.throws(() => parseCron("* * *"), /^Error: cron "\* \* \*": .*five/);
    assert.throws(() => parseCron("* * * * * *"), /cron "\* \* \* \* \* \*": .*exactly 5 parts/);
    assert.throws(() => parseCron("60 * * * *"), /cron "60 \* \* \* \*": Invalid value for minute: 60/);
    assert.throws(() => parseCron("* * * FOO *"), /cron "\* \* \* FOO \*": .*illegal characters/);
    assert.throws(() => parseCron("*/0 * * * *"), /illegal stepping/);
    assert.throws(() => parseCron("0 0 30 2 *").next(0), /cron "0 0 30 2 \*" never matches/);
  });
});
