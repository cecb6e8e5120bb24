import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startApp, type RunningApp } from "../support.js";

describe("ai-sdk app: SDK clients built from room.context.ai and process.env", () => {
  let app: RunningApp;
  before(async () => {
    // --var is variadic and keeps strings, as on PartyKit.
    app = await startApp("ai-sdk", ["--var", "MODEL=gpt-4o-mini", "MAX_TOKENS=256"]);
  });
  after(() => app.dispose());

  it("starts although the constructor reads context.ai, and openai finds its key and base URL from .env", async () => {
    const response = await app.fetch("/parties/main/helper");
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.openaiKey, "sk-test-from-dotenv");
    assert.equal(body.openaiBaseURL, "http://127.0.0.1:9/v1");
    assert.equal(body.dynamicRead, "sk-test-from-dotenv");
    assert.equal(body.listed, true);
    assert.deepEqual(body.env, {
      TEMPERATURE: 0.5,
      FEATURES: { stream: false },
      OPENAI_API_KEY: "sk-test-from-dotenv",
      OPENAI_BASE_URL: "http://127.0.0.1:9/v1",
      MODEL: "gpt-4o-mini",
      MAX_TOKENS: "256",
    });
  });

  it("calling Workers AI fails with a clear error, not at construction", async () => {
    const response = await app.fetch("/parties/main/helper/workers-ai");
    assert.equal(response.status, 501);
    assert.match(await response.text(), /^context\.ai \(Workers AI\) is not available on partyhouse \(called context\.ai\.binding\.fetch\(\)\)$/);
  });
});
