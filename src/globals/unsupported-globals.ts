/**
 * workerd globals that have no Node counterpart partyhouse could offer. They exist, so code that
 * mentions them loads; using them throws an error that says why.
 */
import { NotSupportedError, unavailableBinding } from "../runtime/unavailable.js";

/** `caches.default.match(...)`, `caches.open(...)`: the Cloudflare Cache API. */
export const caches: unknown = unavailableBinding("caches (the Cloudflare Cache API)", "caches");

export class HTMLRewriter {
  constructor() {
    throw new NotSupportedError("HTMLRewriter is not available on partyhouse (it is part of the Cloudflare runtime)");
  }
}
