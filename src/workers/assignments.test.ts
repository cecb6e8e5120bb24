/**
 * Assignments against a small model, over random sequences of what the supervisor sees:
 * connections routed, workers asking (`locate`, with or without a claim), releases, exits,
 * workers becoming (in)eligible, time passing. The rules checked after every step:
 * - a room has at most one owner, and ownerOf agrees with every answer given;
 * - a room a worker holds keeps its owner until that worker releases it or exits;
 * - a new room only goes to an eligible worker, and (without a claim) to one with the fewest;
 * - a worker that exited owns nothing; tentative placements lapse, held ones never do.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import fc from "fast-check";
import { Assignments, TENTATIVE_MS } from "./assignments.js";

const WORKERS = 3;
const ROOMS = ["a", "b", "c", "d", "e"];

type Step =
  | { kind: "route"; room: string }
  | { kind: "locate"; room: string; claimer: number | undefined }
  | { kind: "release"; room: string; worker: number }
  | { kind: "exit"; worker: number }
  | { kind: "eligible"; worker: number; eligible: boolean }
  | { kind: "wait"; ms: number };

const room = fc.constantFrom(...ROOMS);
const worker = fc.integer({ min: 0, max: WORKERS - 1 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("route" as const), room }),
  fc.record({ kind: fc.constant("locate" as const), room, claimer: fc.option(worker, { nil: undefined }) }),
  fc.record({ kind: fc.constant("release" as const), room, worker }),
  fc.record({ kind: fc.constant("exit" as const), worker }),
  fc.record({ kind: fc.constant("eligible" as const), worker, eligible: fc.boolean() }),
  fc.record({ kind: fc.constant("wait" as const), ms: fc.constantFrom(1_000, TENTATIVE_MS) }),
);

interface ModelEntry {
  worker: number;
  held: boolean;
  lapsesAt: number;
}

test("assignments keep one owner per room, hold what workers asked for, and place new rooms on the least loaded eligible worker", () => {
  fc.assert(
    fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
      const table = new Assignments(WORKERS);
      const model = new Map<string, ModelEntry>();
      const eligible = new Array<boolean>(WORKERS).fill(false);
      let now = 0;
      const load = (w: number) => [...model.values()].filter((entry) => entry.worker === w).length;
      const fewest = () => Math.min(...eligible.flatMap((ok, w) => (ok ? [load(w)] : [])));
      for (const s of steps) {
        const ref = { party: "main", room: "room" in s ? s.room : "" };
        switch (s.kind) {
          case "route": {
            const before = model.get(ref.room);
            const expectedFewest = eligible.some(Boolean) ? fewest() : undefined;
            const got = table.route(ref, now);
            if (before) assert.equal(got, before.worker, "a placed room keeps its worker");
            else if (expectedFewest === undefined) assert.equal(got, undefined);
            else {
              assert.ok(got !== undefined && eligible[got], "a new room goes to an eligible worker");
              assert.equal(load(got), expectedFewest, "…with the fewest rooms");
              model.set(ref.room, { worker: got, held: false, lapsesAt: now + TENTATIVE_MS });
            }
            break;
          }
          case "locate": {
            const before = model.get(ref.room);
            const expectedFewest = eligible.some(Boolean) ? fewest() : undefined;
            const got = table.locate(ref, s.claimer);
            if (before) {
              assert.equal(got?.worker, before.worker, "a placed room keeps its worker");
              before.held = true;
            } else if (s.claimer !== undefined && eligible[s.claimer]) {
              assert.equal(got?.worker, s.claimer, "an eligible claimer gets a room nobody has");
              model.set(ref.room, { worker: s.claimer, held: true, lapsesAt: Infinity });
            } else if (expectedFewest === undefined) {
              assert.equal(got, undefined);
            } else {
              assert.ok(got !== undefined && eligible[got.worker]);
              assert.equal(load(got.worker), expectedFewest);
              model.set(ref.room, { worker: got.worker, held: true, lapsesAt: Infinity });
            }
            break;
          }
          case "release":
            table.release(ref, s.worker);
            if (model.get(ref.room)?.worker === s.worker) model.delete(ref.room);
            break;
          case "exit":
            table.clear(s.worker);
            eligible[s.worker] = false;
            for (const [key, entry] of model) if (entry.worker === s.worker) model.delete(key);
            break;
          case "eligible":
            table.setEligible(s.worker, s.eligible);
            eligible[s.worker] = s.eligible;
            break;
          case "wait":
            now += s.ms;
            table.sweep(now);
            for (const [key, entry] of model) if (!entry.held && entry.lapsesAt <= now) model.delete(key);
            break;
        }
        for (const name of ROOMS) assert.equal(table.ownerOf({ party: "main", room: name })?.worker, model.get(name)?.worker, `owner of ${name}`);
        for (let w = 0; w < WORKERS; w++) assert.equal(table.count(w), load(w), `rooms of worker ${w}`);
      }
    }),
    { numRuns: 500 },
  );
});
