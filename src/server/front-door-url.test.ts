import assert from "node:assert/strict";
import { test } from "node:test";
import type * as Party from "../types/party.js";
import { startTestServer } from "../testing/index.js";
import { routeOf } from "./route.js";
import { rawRequest } from "./test-support.js";

/** A guard on the req.url string, as a quick project might write it: only /public/ passes. */
class Guarded implements Party.Server {
  constructor(readonly room: Party.Room) {}
  static onBeforeRequest(req: Party.Request) {
    if (!req.url.includes("/public/")) return new Response("denied", { status: 403 });
    const next = new Request(req);
    next.headers.set("x-hook-url", req.url);
    return next;
  }
  onRequest(req: Party.Request) {
    return Response.json({ room: this.room.id, url: req.url, hookUrl: req.headers.get("x-hook-url") });
  }
}

test("req.url is the normalized URL routing used, in onBeforeRequest and in the room", async () => {
  const server = await startTestServer({ parties: Guarded, memory: true });
  try {
    const targets = [
      "/parties/main/r/public/../secret",
      "/parties/main/r/public/%2e%2e/secret",
      "/parties/main/r/x/../public/page",
      // A fragment routing ignores must not reach the guard either (it used to keep "#/../secret").
      "/parties/main/r/public/#/../secret",
      // Origin-form is a path: routing must not read "//parties" as a host.
      "//parties/main/r/public/x",
    ];
    for (const target of targets) {
      const got = await rawRequest(server.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1`);
      if (got.status === 403 || got.status === 404) continue; // refused: nothing to compare
      assert.equal(got.status, 200, `${target}: ${got.body}`);
      const seen = JSON.parse(got.body) as { room: string; url: string; hookUrl: string };
      assert.equal(seen.hookUrl, seen.url, target);
      assert.doesNotMatch(seen.url, /#|\/\.\.?(\/|$)/, target);
      const route = routeOf(new URL(seen.url).pathname);
      assert.deepEqual(route, { kind: "room", party: "main", room: seen.room }, target);
    }
  } finally {
    await server.close();
  }
});
