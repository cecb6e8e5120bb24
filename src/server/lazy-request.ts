/**
 * The web Request user code sees for a request without a body, built only as far as it is read.
 *
 * An undici `Request` costs about 37,000 instructions to make on Node 22 (its URL parsed again,
 * a header list, an AbortController), half of what the bare node:http server spends on a whole
 * request, and most handlers read `url` and perhaps a header. LazyRequest keeps the URL and the
 * method as strings and fills its `Headers` the first time `headers` is read. It inherits from
 * `Request.prototype`, so `instanceof Request` holds; every member it does not answer itself
 * (body readers, inspection, members a later undici adds) is answered by a real Request made
 * from its current parts, so user code sees no difference.
 *
 * undici's own functions check for their private brand, so `new Request(lazy)` and
 * `fetch(lazy)` need the real one: user bundles get a `Request` and a `fetch` that pass
 * `LazyRequest.real(lazy)` instead (src/build/web-globals.ts, src/globals/outgoing-fetch.ts);
 * everything else in partyhouse reads requests through their public members only.
 *
 * Only the public API of Request is used: nothing of undici's internal state is read.
 */
import { delegateToReal } from "./lazy-delegation.js";

const RealRequest = globalThis.Request;

/** Adds the request's header list to an empty Headers (called once, on the first read). */
export type HeaderFill = (headers: Headers) => void;

/** Where bundles find the `Request` to offer user code (src/build/web-globals.ts). */
export const BUNDLE_REQUEST_KEY = Symbol.for("partyhouse.Request");

/** Methods undici keeps as Node's parser gives them (upper case); others stay with undici's rules. */
const LAZY_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]);

export class LazyRequest {
  readonly #url: string;
  readonly #method: string;
  #fill: HeaderFill | undefined;
  #headers: Headers | undefined;
  #signal: AbortSignal | undefined;

  private constructor(url: string, method: string, fill: HeaderFill | undefined, headers: Headers | undefined) {
    this.#url = url;
    this.#method = method;
    this.#fill = fill;
    this.#headers = headers;
  }

  /**
   * A request with no body. `url` must already be in the form the URL parser gives (the
   * caller checks); a method undici would rewrite or refuse gives undefined (use a real one).
   */
  static withoutBody(url: string, method: string, fill: HeaderFill): LazyRequest | undefined {
    if (!LAZY_METHODS.has(method)) return undefined;
    return new LazyRequest(url, method, fill, undefined);
  }

  static isLazy(value: unknown): value is LazyRequest {
    return typeof value === "object" && value !== null && #url in value;
  }

  /** A real undici Request with this one's method, URL and current headers (a new one per call). */
  static real(request: LazyRequest): Request {
    return new RealRequest(request.#url, { method: request.#method, headers: request.headers });
  }

  get method(): string {
    return this.#method;
  }
  get url(): string {
    return this.#url;
  }
  get headers(): Headers {
    let headers = this.#headers;
    if (headers === undefined) {
      headers = this.#headers = new Headers();
      const fill = this.#fill!;
      this.#fill = undefined;
      fill(headers);
    }
    return headers;
  }
  get signal(): AbortSignal {
    // Never aborted, as the real one partyhouse made was not: nothing holds its controller.
    return (this.#signal ??= new AbortController().signal);
  }
  get body(): null {
    return null;
  }
  get bodyUsed(): boolean {
    return false;
  }
  // What `new Request(url, { method, headers })` answers.
  get destination(): RequestDestination {
    return "";
  }
  get referrer(): string {
    return "about:client";
  }
  get referrerPolicy(): ReferrerPolicy {
    return "";
  }
  get mode(): RequestMode {
    return "cors";
  }
  get credentials(): RequestCredentials {
    return "same-origin";
  }
  get cache(): RequestCache {
    return "default";
  }
  get redirect(): RequestRedirect {
    return "follow";
  }
  get integrity(): string {
    return "";
  }
  get keepalive(): boolean {
    return false;
  }
  get isReloadNavigation(): boolean {
    return false;
  }
  get isHistoryNavigation(): boolean {
    return false;
  }
  get duplex(): "half" {
    return "half";
  }

  /** Like undici's clone: the same URL and method, a copy of the header list, no own properties (`cf`). */
  clone(): Request {
    const headers = this.#headers;
    const copy = headers === undefined
      ? new LazyRequest(this.#url, this.#method, this.#fill, undefined)
      : new LazyRequest(this.#url, this.#method, undefined, new Headers(headers));
    return copy as unknown as Request;
  }
}

/**
 * The `Request` user bundles see: undici's, except that a LazyRequest given as the input or
 * the init is replaced by its real equivalent first (undici accepts only its own objects).
 * `instanceof` and subclasses work as with undici's class.
 */
export const BundleRequest: typeof Request = new Proxy(RealRequest, {
  construct(target, args: unknown[], newTarget) {
    if (LazyRequest.isLazy(args[0])) args[0] = LazyRequest.real(args[0]);
    if (LazyRequest.isLazy(args[1])) args[1] = LazyRequest.real(args[1]);
    return Reflect.construct(target, args, newTarget === BundleRequest ? target : newTarget) as object;
  },
});

// Everything not answered above (text(), json(), inspection, …) is answered by a real Request.
delegateToReal(LazyRequest, RealRequest, (lazy) => LazyRequest.real(lazy));
// `request.constructor` is the Request user code knows.
Object.defineProperty(LazyRequest.prototype, "constructor", { value: BundleRequest, writable: true, configurable: true });
(globalThis as Record<symbol, unknown>)[BUNDLE_REQUEST_KEY] = BundleRequest;
