/**
 * Injected into every server bundle (esbuild `inject`): the bundle's free `Response` refers to
 * this export. It is partyhouse's LazyResponse (src/server/lazy-response.ts) when the runtime
 * registered it, else the platform's Response, so the bundle also runs outside partyhouse.
 * The process's own globals are left untouched.
 */
const registered = (globalThis as Record<symbol, unknown>)[Symbol.for("partyhouse.LazyResponse")] as
  | typeof globalThis.Response
  | undefined;
const BundleResponse: typeof globalThis.Response = registered ?? globalThis.Response;
export { BundleResponse as Response };
