import { strict as assert } from "node:assert";
import { availableParallelism } from "node:os";
import { test } from "node:test";
import { Checker } from "./check.js";
import { MAX_WORKERS, resolveWorkers, validateWorkers } from "./workers.js";

test('"workers" is a whole number from 1 to MAX_WORKERS or "auto"; auto is the available cores', () => {
  const check = new Checker("partykit.json");
  assert.equal(validateWorkers(check, 3), 3);
  assert.equal(validateWorkers(check, "auto"), "auto");
  for (const bad of [0, 1.5, MAX_WORKERS + 1, "4", null]) {
    assert.throws(() => validateWorkers(check, bad), /partykit.json: "workers" must be "auto" or a whole number from 1 to 64/);
  }
  assert.equal(resolveWorkers(undefined), 1);
  assert.equal(resolveWorkers(2), 2);
  assert.equal(resolveWorkers("auto"), Math.min(MAX_WORKERS, availableParallelism()));
});
