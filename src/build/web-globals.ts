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
  const hasInstance = (value: unknown): boolean => value instanceof base;
  const wrapped: typeof globalThis.Response = new Proxy(base, {
    construct(target, args: unknown[], newTarget) {
      if (globals.hasWebSocket(args[1])) return globals.createUpgradeResponse(args[0], args[1]);
      return Reflect.construct(target, args, newTarget === wrapped ? target : newTarget) as object;
    },
    get(target, key) {
      // `x instanceof Response` must ask the base class, not the proxy (fetch() results count).
      if (key === Symbol.hasInstance) return hasInstance;
      return Reflect.get(target, key, target) as unknown;
    },
  });
  return wrapped;
}

const BundleResponse: typeof globalThis.Response = workerd ? withWebSocketUpgrades(BaseResponse, workerd) : BaseResponse;
export { BundleResponse as Response };

const BundleRequest: typeof globalThis.Request = registeredRequest ?? globalThis.Request;
export { BundleRequest as Request };
