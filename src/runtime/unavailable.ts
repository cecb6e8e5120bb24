/**
 * Stand-ins for Cloudflare-only bindings and workerd globals that partyhouse cannot offer
 * (`context.ai`, `vectorize`, R2/KV `bindings`, `caches`). Reading them, or any property of
 * them, never throws: libraries touch bindings early (`partykit-ai` destructures
 * `room.context.ai` in a constructor) and an app that never calls them must still start.
 * Calling or constructing anything reached through them throws an error naming what was used.
 */

export class NotSupportedError extends Error {
  override name = "NotSupportedError";
}

/** Properties that must stay undefined so the stand-in is not mistaken for a promise, a JSON value or a primitive. */
const ABSENT = new Set<PropertyKey>(["then", "toJSON", "constructor", "prototype", "asymmetricMatch", "$$typeof", "nodeType"]);

/**
 * A binding that does not exist here. `what` names it in the error
 * ("context.ai (Workers AI)"); `path` is how user code reached it, for the message.
 */
export function unavailableBinding(what: string, path: string = what): object {
  return standIn(what, path, {});
}

function standIn(what: string, path: string, target: object): object {
  const children = new Map<PropertyKey, object>();
  const fail = (): never => {
    throw new NotSupportedError(`${what} is not available on partyhouse (called ${path}())`);
  };
  return new Proxy(target, {
    get(_target, property) {
      if (typeof property === "symbol" || ABSENT.has(property)) return undefined;
      let child = children.get(property);
      // A callable target, so whatever is reached through the binding can be called (and fail).
      // Bound: it has [[Construct]] but no non-configurable `prototype` the traps would have to report.
      if (!child) children.set(property, (child = standIn(what, `${path}.${property}`, function unavailable() {}.bind(null))));
      return child;
    },
    has: () => false,
    ownKeys: () => [],
    getOwnPropertyDescriptor: () => undefined,
    set: () => true,
    apply: fail,
    construct: fail,
  });
}

/**
 * A record of named bindings (`vectorize`, `bindings.r2`): every name reads as an unavailable
 * binding, so `context.vectorize.myIndex.query(...)` fails with a clear message when called.
 */
export function unavailableBindings(what: string, path: string): Record<string, unknown> {
  return unavailableBinding(what, path) as Record<string, unknown>;
}
