/**
 * `URLPattern`: Node's own where it has one (24+), else the maintained polyfill (Node 22).
 * The polyfill's `urlpattern` entry does not touch globals; it is loaded only when needed.
 */
type URLPatternClass = new (...args: never[]) => object;

const native = (globalThis as { URLPattern?: URLPatternClass }).URLPattern;

export const URLPattern: URLPatternClass =
  native ?? ((await import("urlpattern-polyfill/urlpattern")) as { URLPattern: URLPatternClass }).URLPattern;
