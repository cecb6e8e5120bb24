import { test } from "node:test";
import assert from "node:assert/strict";
import { routeOf, type Route } from "./route.js";

const room = (party: string, id: string): Route => ({ kind: "room", party, room: id });
const other: Route = { kind: "other" };

const cases: Array<[path: string, expected: Route]> = [
  // current partysocket form
  ["/parties/main/lobby", room("main", "lobby")],
  ["/parties/chat/lobby", room("chat", "lobby")],
  ["/parties/chat/lobby/", room("chat", "lobby")],
  ["/parties/chat/lobby/sub/path", room("chat", "lobby")],
  ["/parties/chat/lobby?_pk=abc", room("chat", "lobby")],
  ["/parties/chat/lobby#frag", room("chat", "lobby")],
  // legacy form is the main party
  ["/party/lobby", room("main", "lobby")],
  ["/party/lobby/", room("main", "lobby")],
  ["/party/lobby/sub?x=1", room("main", "lobby")],
  // room ids are raw: percent-encoding kept, dots and dashes allowed
  ["/parties/main/hello%20world", room("main", "hello%20world")],
  ["/party/a%2Fb", room("main", "a%2Fb")],
  ["/parties/main/my.room-1_x", room("main", "my.room-1_x")],
  ["/parties/main/%F0%9F%8E%89", room("main", "%F0%9F%8E%89")],
  // unknown parties still route; the 404 is the caller's
  ["/parties/nope/r", room("nope", "r")],
  // empty room or party: not a room
  ["/party/", other],
  ["/party", other],
  ["/party//x", other],
  ["/party/?_pk=1", other],
  ["/parties/main/", other],
  ["/parties/main", other],
  ["/parties/main?x=/y", other],
  ["/parties/", other],
  ["/parties//room", other],
  ["/parties/main//x", other],
  // everything else
  ["/", other],
  ["", other],
  ["/index.html", other],
  ["/partyroom", other],
  ["/partiesx/main/r", other],
  ["/Party/room", other],
  ["/api/parties/main/r", other],
];

for (const [path, expected] of cases) {
  test(`routeOf(${JSON.stringify(path)})`, () => {
    assert.deepEqual(routeOf(path), expected);
  });
}
