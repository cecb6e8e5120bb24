/**
 * A Request over a Node IncomingMessage that only becomes an undici Request when something
 * needs one.
 *
 * On Node 20 every `new Request()` creates an AbortSignal (made transferable, ~10 µs) and a
 * body stream; routing a request and calling onRequest mostly reads `method`, `url` and
 * `headers`. LazyRequest answers those itself and builds the real Request, once, the moment
 * anything else is touched (body, json(), signal, clone(), …). It is `instanceof Request`, and
 * undici's internal slots are forwarded, so `new Request(lazy)` works as with any Request.
 */
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import type { RequestCf } from "../types/party.js";
import { delegateToReal } from "./lazy-delegation.js";

const RealRequest = globalThis.Request;

// Node's DOM typings lack `duplex`, which undici requires for a streamed request body.
interface StreamingRequestInit extends RequestInit {
  duplex?: "half";
}

export class LazyRequest {
  readonly method: string;
  readonly url: string;
  cf: RequestCf;
  #headers: Headers | (() => Headers);
  #incoming: IncomingMessage | undefined;
  #real: Request | undefined;

  /**
   * `headers` is handed over (not copied), or a function that builds them on first use;
   * `incoming` is the body source, or undefined when the request has no body.
   */
  constructor(
    method: string,
    url: string,
    headers: Headers | (() => Headers),
    incoming: IncomingMessage | undefined,
    cf: RequestCf,
  ) {
    this.method = method;
    this.url = url;
    this.#headers = headers;
    this.#incoming = incoming;
    this.cf = cf;
  }

  get headers(): Headers {
    if (this.#real) return this.#real.headers;
    if (typeof this.#headers === "function") this.#headers = this.#headers();
    return this.#headers;
  }

  /**
   * A copy for onBeforeConnect / onBeforeRequest to change freely. A request without a body is
   * copied lazily too; one with a body becomes real first (its stream can only be read once).
   */
  static copy(request: LazyRequest): Request {
    if (request.#real || request.#incoming) return new RealRequest(LazyRequest.materialize(request));
    const copy = new LazyRequest(request.method, request.url, new Headers(request.headers), undefined, request.cf);
    return copy as unknown as Request;
  }

  /** The real Request, built on first need. */
  static materialize(request: LazyRequest): Request {
    if (!request.#real) {
      const init: StreamingRequestInit = { method: request.method, headers: request.headers };
      if (request.#incoming) {
        init.body = Readable.toWeb(request.#incoming) as ReadableStream<Uint8Array>;
        init.duplex = "half";
      }
      request.#real = new RealRequest(request.url, init);
      request.#incoming = undefined;
    }
    return request.#real;
  }
}

// Everything not answered above is answered by the real Request, built on demand (`method` and
// `url` are own fields of each instance, so the prototype's forwarding never shadows them).
delegateToReal(LazyRequest, RealRequest, new RealRequest("http://partyhouse.invalid/"), (lazy) => LazyRequest.materialize(lazy));
