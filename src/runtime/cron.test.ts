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

  it("rejects malformed expressions with the field named", () => {
    assert.throws(() => parseCron("* * *"), /expected 5 fields/);
    assert.throws(() => parseCron("60 * * * *"), /minute "60" is outside 0-59/);
    assert.throws(() => parseCron("* * * FOO *"), /month "FOO" is not a valid value/);
    assert.throws(() => parseCron("*/0 * * * *"), /invalid step/);
    assert.throws(() => parseCron("0 0 30 2 *").next(0), /never matches/);
  });
});
