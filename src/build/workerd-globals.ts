/**
 * Injected into every server bundle (esbuild `inject`): the workerd globals PartyKit code uses
 * (`WebSocketPair`, `URLPattern`, `scheduler`) and the ones that only fail when used (`caches`,
 * `HTMLRewriter`), and a `fetch` held by the output gate (src/globals/outgoing-fetch.ts), as
 * partyhouse registered them (src/globals/registry.ts). Free names in user code refer to these
 * exports; globalThis is not changed. `navigator` is Node's own.
 */
import type { WorkerdGlobals } from "../globals/registry.js";

const workerd = (globalThis as Record<symbol, unknown>)[Symbol.for("partyhouse.workerdGlobals")] as
  | WorkerdGlobals
  | undefined;
const platform = globalThis as unknown as Partial<WorkerdGlobals>;

const WebSocketPair = workerd?.WebSocketPair ?? platform.WebSocketPair;
const URLPattern = workerd?.URLPattern ?? platform.URLPattern;
const scheduler = workerd?.scheduler ?? platform.scheduler;
const caches = workerd?.caches ?? platform.caches;
const HTMLRewriter = workerd?.HTMLRewriter ?? platform.HTMLRewriter;
const fetch = workerd?.fetch ?? globalThis.fetch;
export { WebSocketPair, URLPattern, scheduler, caches, HTMLRewriter, fetch };
