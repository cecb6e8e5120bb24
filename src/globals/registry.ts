/**
 * The workerd globals partyhouse offers user bundles. Importing this module registers them
 * under a well-known symbol; each bundle's injected module (src/build/workerd-globals.ts,
 * src/build/web-globals.ts) picks them up, so user code sees them as free names while the
 * process's own globals stay untouched.
 */
import { WebSocketPair } from "./local-websocket.js";
import { outgoingFetch } from "./outgoing-fetch.js";
import { scheduler } from "./scheduler.js";
import { caches, HTMLRewriter } from "./unsupported-globals.js";
import { createUpgradeResponse, hasWebSocket } from "../runtime/websocket-response.js";
import { URLPattern } from "./url-pattern.js";

export const WORKERD_GLOBALS_KEY = Symbol.for("partyhouse.workerdGlobals");

export interface WorkerdGlobals {
  WebSocketPair: typeof WebSocketPair;
  URLPattern: typeof URLPattern;
  scheduler: typeof scheduler;
  caches: unknown;
  HTMLRewriter: typeof HTMLRewriter;
  /** For the bundle's `Response`: a Response init with a `webSocket` gives a 101 response. */
  hasWebSocket: typeof hasWebSocket;
  createUpgradeResponse: typeof createUpgradeResponse;
  /** The bundle's `fetch`: held until the process's pending writes are durable (outgoing-fetch.ts). */
  fetch: typeof fetch;
}

const globals: WorkerdGlobals = {
  WebSocketPair,
  URLPattern,
  scheduler,
  caches,
  HTMLRewriter,
  hasWebSocket,
  createUpgradeResponse,
  fetch: outgoingFetch,
};
(globalThis as Record<symbol, unknown>)[WORKERD_GLOBALS_KEY] = globals;
