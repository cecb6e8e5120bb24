/**
 * The one normalized form of a request target that both routing and user code see. PartyKit
 * runs behind workerd, where `request.url` is a WHATWG URL: dot segments removed, `%2e` treated
 * as a dot, backslashes as slashes, some characters percent-encoded. Routing on one form and
 * handing user code another lets `/parties/main/r/public/../secret` pass a guard that looks at
 * `req.url` for `/public/` and then reach room `r`'s `/secret` (issue 11). So the front door
 * routes on this, and `toWebRequest` builds `req.url` from this.
 */

export interface RequestTarget {
  /** Normalized, still percent-encoded path (room ids keep their encoding). */
  readonly pathname: string;
  /** `?query` as the URL parser gives it, or "". */
  readonly search: string;
}

/** Paths the URL parser returns unchanged: no dots at all (so no dot segments), nothing it encodes. */
const PLAIN_PATH = /^\/[A-Za-z0-9\-_~!$&'()*+,;=:@%/]*$/;
/** Queries it returns unchanged (it encodes `'` in queries of http URLs, and spaces, quotes, <, >). */
const PLAIN_QUERY = /^[A-Za-z0-9\-_~!$&()*+,;=:@%/?.[\]|{}^`]*$/;
const BASE = "http://partyhouse.invalid";

/** The normalized target, or null when no URL parser would accept it. */
export function requestTarget(raw: string | undefined): RequestTarget | null {
  if (!raw) return null;
  if (raw.charCodeAt(0) === 47 /* / */ && raw.charCodeAt(1) !== 47) {
    const query = raw.indexOf("?");
    const path = query < 0 ? raw : raw.slice(0, query);
    const search = query < 0 ? "" : raw.slice(query);
    // Most targets are plain; the URL parser (a few µs) is for dots, %2e, `#` and the rest.
    if (PLAIN_PATH.test(path) && !/%2e/i.test(path) && (search === "" || (search.length > 1 && PLAIN_QUERY.test(search.slice(1))))) {
      return { pathname: path, search };
    }
  }
  // Origin-form is appended to an origin, never resolved against one: `//x/y` stays a path.
  // Absolute-form (proxy style) keeps only its path and query; other schemes have no path.
  if (raw.charCodeAt(0) !== 47 && !/^https?:\/\//i.test(raw)) return null;
  try {
    const url = new URL(raw.charCodeAt(0) === 47 ? BASE + raw : raw);
    return { pathname: url.pathname, search: url.search };
  } catch {
    return null;
  }
}
