import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type * as Party from "../types/party.js";
import { startTestServer } from "../testing/index.js";
import { TestSocket } from "../testing/index.js";
import { callerOf, secretMatches } from "./internal-auth.js";

describe("internal calls", () => {
  it("classifies callers from the raw header list", () => {
    const secret = "s3cret";
    assert.equal(callerOf(["Host", "x"], secret), "none");
    assert.equal(callerOf(["X-Partyhouse-Internal", "wrong"], secret), "forged");
    assert.equal(callerOf(["x-partyhouse-internal", "s3cret"], secret), "stub");
    assert.equal(callerOf(["x-partyhouse-internal", "s3cret", "x-partyhouse-url", "http://h/p"], secret), "peer");
    assert.equal(callerOf(["x-partyhouse-internal", "s3cret", "x-partyhouse-internal", "s3cret"], secret), "forged");
    assert.equal(secretMatches("", ""), false, "an empty secret never matches");
  });

  it("single-process mode refuses an outside request that carries a wrong secret", async () => {
    class Main implements Party.Server {
      onRequest() {
        return new Response("ok");
      }
    }
    const server = await startTestServer({ parties: { main: Main }, memory: true });
    try {
      const forged = { "x-partyhouse-internal": "guess" };
      assert.equal((await server.fetch("/parties/main/r", { headers: forged })).status, 403);
      await assert.rejects(server.connect("/parties/main/r", { headers: forged }), (e: Error & { status?: number }) => e.status === 403);
      assert.equal(await (await server.fetch("/parties/main/r")).text(), "ok");
    } finally {
      await server.close();
    }
  });
});
