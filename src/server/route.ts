/**
 * Which room, if any, a request path addresses (spec 3.1). Pure string work on the raw path:
 * room ids keep their percent-encoded form because that is the room's identity in PartyKit.
 */

export type Route = { kind: "room"; party: string; room: string } | { kind: "other" };

const OTHER: Route = Object.freeze({ kind: "other" });

/** The main party, which the legacy `/party/<room>` form addresses. */
export const MAIN_PARTY = "main";

/**
 * `/parties/<party>/<room>[/...]` or `/party/<room>[/...]` (party "main"). An empty party or room
 * segment is not a room (it falls through to static assets / onFetch / 404). Whether the party
 * exists is the caller's question. A query string or fragment, if passed, is ignored.
 */
export function routeOf(rawPathname: string): Route {
  const end = pathEnd(rawPathname);
  if (rawPathname.startsWith("/parties/")) {
    const partyEnd = segmentEnd(rawPathname, 9, end);
    if (partyEnd === 9 || partyEnd === end) return OTHER;
    const roomEnd = segmentEnd(rawPathname, partyEnd + 1, end);
    if (roomEnd === partyEnd + 1) return OTHER;
    return {
      kind: "room",
      party: rawPathname.slice(9, partyEnd),
      room: rawPathname.slice(partyEnd + 1, roomEnd),
    };
  }
  if (rawPathname.startsWith("/party/")) {
    const roomEnd = segmentEnd(rawPathname, 7, end);
    if (roomEnd === 7) return OTHER;
    return { kind: "room", party: MAIN_PARTY, room: rawPathname.slice(7, roomEnd) };
  }
  return OTHER;
}

/** Where the path part stops, so callers may pass `req.url` as it is. */
function pathEnd(path: string): number {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) return i;
  }
  return path.length;
}

/** Index of the `/` ending the segment that starts at `start`, or `end`. */
function segmentEnd(path: string, start: number, end: number): number {
  const slash = path.indexOf("/", start);
  return slash === -1 || slash > end ? end : slash;
}
