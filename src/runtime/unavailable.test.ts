import assert from "node:assert/strict";
import { inspect } from "node:util";
import { test } from "node:test";
import { NotSupportedError, unavailableBinding, unavailableBindings } from "./unavailable.js";

test("reading a binding and its properties never throws; destructuring and spreading work", () => {
  const ai = unavailableBinding("context.ai (Workers AI)", "context.ai") as Record<string, unknown>;
  // What partykit-ai's constructor does with room.context.ai.
  const { binding, ...rest } = ai;
  assert.ok(binding);
  assert.deepEqual(rest, {});
  assert.equal(ai.then, undefined, "not a thenable: `await context.ai` must not hang");
  assert.equal(JSON.stringify({ ai }), '{"ai":{}}');
  assert.doesNotThrow(() => inspect(ai));
  assert.doesNotThrow(() => String(Object.keys(ai)));
});

test("calling or constructing anything reached through a binding throws a clear error", () => {
  const ai = unavailableBinding("context.ai (Workers AI)", "context.ai") as { binding: { fetch(url: string): unknown } };
  assert.throws(() => ai.binding.fetch("http://workers-binding.ai/run"), (error: unknown) => {
    assert.ok(error instanceof NotSupportedError);
    assert.equal(error.message, "context.ai (Workers AI) is not available on partyhouse (called context.ai.binding.fetch())");
    return true;
  });
  const vectorize = unavailableBindings("Vectorize", "context.vectorize") as Record<string, { query(v: number[]): unknown }>;
  assert.throws(() => vectorize.docs!.query([1, 2]), /Vectorize is not available on partyhouse \(called context\.vectorize\.docs\.query\(\)\)/);
  const Caches = unavailableBinding("caches (the Cache API)", "caches") as { open: new () => unknown };
  assert.throws(() => new Caches.open(), NotSupportedError);
});
