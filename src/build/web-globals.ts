/**
 * Injected into every server bundle (esbuild `inject`): the bundle's free `Response` and
 * `Request` refer to these exports. They are partyhouse's LazyResponse (src/server/lazy-response.ts)
 * and a Request that accepts partyhouse's LazyRequest as input (src/server/lazy-request.ts) when
 * the runtime registered them, else the platform's, so the bundle also runs outside partyhouse.
 * When the workerd globals are registered (src/globals/registry.ts), `new Response(null,
 * { status: 101, webSocket })` gives a WebSocket upgrade response, as in workerd.
 * The process's own globals are left untouched.
 */
import type { WorkerdGlobals } from "../globals/registry.js";

const registry = globalThis as Record<symbol, unknown>;
const registered = registry[Symbol.for("partyhouse.LazyResponse")] as typeof globalThis.Response | undefined;
const registeredRequest = registry[Symbol.for("partyhouse.Request")] as typeof globalThis.Request | undefined;
const workerd = registry[Symbol.for("partyhouse.workerdGlobals")] as WorkerdGlobals | undefined;
const BaseResponse: typeof globalThis.Response = registered ?? globalThis.Response;

function withWebSocketUpgrades(base: typeof globalThis.Response, globals: WorkerdGlobals): typeof globalThis.Response {
  // A plain constructor function, not a Proxy: a construct trap costs every `new Response()`
  // a trip through the runtime and an arguments list (measured per request in bench:count).
  function Response(this: unknown, body?: BodyInit | null, init?: ResponseInit): globalThis.Response {
    if (new.target === undefined) throw new TypeError("Class constructor Response cannot be invoked without 'new'");
    if (globals.hasWebSocket(init)) return globals.createUpgradeResponse(body, init);
    // Subclasses of the bundle's Response get instances of themselves, built by the base class.
    if ((new.target as unknown) !== wrapped) return Reflect.construct(base, [body, init], new.target) as globalThis.Response;
    return new base(body, init);
  }
  const wrapped = Response as unknown as typeof globalThis.Response;
  // Statics (json, redirect, error) come from the base class; instances share its prototype.
  Object.setPrototypeOf(wrapped, base);
  Object.defineProperties(wrapped, {
    prototype: { value: base.prototype, writable: false },
    name: { value: base.name },
    length: { value: base.length },
    // `x instanceof Response` must ask the base class (fetch() results count).
    [Symbol.hasInstance]: { value: (value: unknown): boolean => value instanceof base },
  });
  return wrapped;
}

const BundleResponse: typeof globalThis.Response = workerd ? withWebSocketUpgrades(BaseResponse, workerd) : BaseResponse;
export { BundleResponse as Response };

const BundleRequest: typeof globalThis.Request = registeredRequest ?? globalThis.Request;
export { BundleRequest as Request };
