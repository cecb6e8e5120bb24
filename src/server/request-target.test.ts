/**
 * Property tests of routing: for any request target, the party, the room id and the `req.url`
 * user code sees agree with what PartyKit's rules give on the URL workerd would build, and
 * nothing throws.
 */
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { test } from "node:test";
import fc from "fast-check";
import { toWebRequest } from "./http-bridge.js";
import { requestTarget } from "./request-target.js";
import { routeOf, type Route } from "./route.js";

const ORIGIN = "http://h.test";

/** PartyKit's rule, written independently: split the parsed URL's pathname on "/". */
function partykitRoute(pathname: string): Route {
  const parts = pathname.split("/");
  if (parts[1] === "parties" && parts.length >= 4 && parts[2] !== "" && parts[3] !== "") {
    return { kind: "room", party: parts[2]!, room: parts[3]! };
  }
  if (parts[1] === "party" && parts.length >= 3 && parts[2] !== "") return { kind: "room", party: "main", room: parts[2]! };
  return { kind: "other" };
}

/** What workerd hands PartyKit for an origin-form target: the origin with the target appended. */
function workerdUrl(target: string): URL | null {
  try {
    return new URL(ORIGIN + target);
  } catch {
    return null;
  }
}

function fakeRequest(target: string): IncomingMessage {
  return {
    url: target,
    method: "GET",
    rawHeaders: ["Host", "h.test"],
    httpVersion: "1.1",
    socket: { remoteAddress: "127.0.0.1" },
  } as unknown as IncomingMessage;
}

const SEGMENTS = [
  "parties", "party", "main", "other", "public", "secret", "room-1", ".", "..", "%2e", "%2E%2e", ".%2e", "%2e.",
  "", "a b", "ü", "%", "%zz", "%2f", "%2F", "\\", "a\\..", "x?y=1", "?", "#", "#frag", "a'b", "q\"", "<>", "%00", "~",
];

const segmentTarget = fc
  .array(fc.oneof(fc.constantFrom(...SEGMENTS), fc.string({ maxLength: 4 })), { maxLength: 7 })
  .map((segments) => "/" + segments.join("/"));
const anyTarget = fc.oneof(segmentTarget, fc.string({ maxLength: 30 }).map((s) => "/" + s), fc.string({ unit: "grapheme", maxLength: 20 }).map((s) => "/" + s));

test("route, room id and req.url agree with PartyKit's rules on the URL workerd would build", () => {
  fc.assert(
    fc.property(anyTarget, (target) => {
      const url = workerdUrl(target);
      const normalized = requestTarget(target);
      if (url === null) {
        assert.equal(normalized, null);
        return;
      }
      assert.ok(normalized !== null);
      assert.equal(normalized.pathname, url.pathname);
      assert.equal(normalized.search, url.search);
      assert.deepEqual(routeOf(normalized.pathname), partykitRoute(url.pathname));
      const request = toWebRequest(fakeRequest(target));
      assert.equal(request.url, url.origin + url.pathname + url.search);
      // What user code parses out of req.url routes the same way the front door did.
      assert.deepEqual(routeOf(new URL(request.url).pathname), routeOf(normalized.pathname));
    }),
    { numRuns: 3000 },
  );
});

test("nothing throws for any string as a target", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (target) => {
      const normalized = requestTarget(target);
      if (normalized !== null) routeOf(normalized.pathname);
      toWebRequest(fakeRequest(target));
    }),
    { numRuns: 3000 },
  );
});

test("dot segments are gone before routing and before user code sees req.url", () => {
  const target = "/parties/main/r/public/../secret";
  assert.deepEqual(requestTarget(target), { pathname: "/parties/main/r/secret", search: "" });
  assert.equal(toWebRequest(fakeRequest(target)).url, `${ORIGIN}/parties/main/r/secret`);
  assert.equal(toWebRequest(fakeRequest("/parties/main/r/%2e%2e/x?a=1")).url, `${ORIGIN}/parties/main/x?a=1`);
  // Origin-form is never resolved against a host: `//evil/x` stays a path on this origin.
  assert.equal(toWebRequest(fakeRequest("//evil.test/x")).url, `${ORIGIN}//evil.test/x`);
  assert.equal(requestTarget("*"), null);
  assert.deepEqual(requestTarget("http://elsewhere/parties/a/b?q"), { pathname: "/parties/a/b", search: "?q" });
});
