/**
 * A Response that only becomes an undici Response when something needs one.
 *
 * On Node 20, `new Response("text")` builds a ReadableStream for its body (~17 µs), and most
 * room handlers answer with exactly that and nothing else reads it: the front door writes the
 * string to the socket. LazyResponse keeps the status, headers and a string or bytes body as
 * given, lets the front door write them directly, and turns into a real Response the moment
 * any other part of the API (body, text(), clone(), …) is used, so user code sees no difference.
 *
 * User bundles get it as their `Response` (esbuild `inject`, see src/build/web-globals.ts);
 * nothing in the process's globals is replaced.
 */
import { delegateToReal } from "./lazy-delegation.js";

const RealResponse = globalThis.Response;

/** Where the bundle's injected `Response` finds this class (same class, so we can recognize it). */
export const LAZY_RESPONSE_KEY = Symbol.for("partyhouse.LazyResponse");

/** Bodies kept as they are; anything else (streams, Blobs, FormData…) goes to undici at once. */
type SimpleBody = string | Uint8Array | null;

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
/** RFC 9110 reason-phrase: what undici accepts for statusText. */
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

interface LazyState {
  body: SimpleBody;
  status: number;
  statusText: string;
  /** Built on first use (or at construction when init.headers was given, to validate it). */
  headers: Headers | undefined;
  /** The content-type undici would add for this body when the headers have none. */
  defaultType: string | undefined;
}

/** The content-type to send: `defaultType` where the headers give none, else none to add. */
export function impliedContentType(lazy: Pick<LazyState, "headers" | "defaultType">): string | undefined {
  return lazy.defaultType !== undefined && !lazy.headers?.has("content-type") ? lazy.defaultType : undefined;
}

export class LazyResponse {
  #lazy: LazyState | undefined;
  #real: Response | undefined;

  constructor(body?: BodyInit | null, init?: ResponseInit) {
    const simple = simpleBodyOf(body);
    if (simple === undefined || !isSimpleInit(init, simple)) {
      this.#real = new RealResponse(body, init);
      return;
    }
    this.#lazy = {
      body: simple,
      status: init?.status ?? 200,
      statusText: init?.statusText ?? "",
      headers: init?.headers === undefined ? undefined : new Headers(init.headers),
      defaultType: typeof simple === "string" ? "text/plain;charset=UTF-8" : undefined,
    };
  }

  static json(data: unknown, init?: ResponseInit): Response {
    const text = JSON.stringify(data) as string | undefined;
    if (text === undefined) return RealResponse.json(data, init);
    const response = new LazyResponse(text, init);
    if (response.#lazy) response.#lazy.defaultType = "application/json";
    else if (!response.#real!.headers.has("content-type")) return RealResponse.json(data, init);
    return response as unknown as Response;
  }

  static redirect(url: string | URL, status?: number): Response {
    return RealResponse.redirect(url, status);
  }

  static error(): Response {
    return RealResponse.error();
  }

  /** `instanceof Response` holds for undici Responses too (fetch() results, Response.error()). */
  static [Symbol.hasInstance](value: unknown): boolean {
    return this === LazyResponse
      ? value instanceof RealResponse
      : Function.prototype[Symbol.hasInstance].call(this, value);
  }

  get status(): number {
    return this.#lazy ? this.#lazy.status : this.#real!.status;
  }
  get statusText(): string {
    return this.#lazy ? this.#lazy.statusText : this.#real!.statusText;
  }
  get ok(): boolean {
    const status = this.status;
    return status >= 200 && status <= 299;
  }
  get headers(): Headers {
    const lazy = this.#lazy;
    if (!lazy) return this.#real!.headers;
    if (!lazy.headers) lazy.headers = new Headers();
    const implied = impliedContentType(lazy);
    if (implied !== undefined) lazy.headers.set("content-type", implied);
    lazy.defaultType = undefined;
    return lazy.headers;
  }
  get type(): ResponseType {
    return this.#lazy ? "default" : this.#real!.type;
  }
  get url(): string {
    return this.#lazy ? "" : this.#real!.url;
  }
  get redirected(): boolean {
    return this.#lazy ? false : this.#real!.redirected;
  }
  get bodyUsed(): boolean {
    return this.#lazy ? false : this.#real!.bodyUsed;
  }

  /**
   * For the front door: status, header list and body, without building a Response; undefined
   * once this became a real Response (then it is sent like any other).
   */
  static unwrap(response: object): { status: number; statusText: string; headers: Headers | undefined; defaultType: string | undefined; body: SimpleBody } | undefined {
    return #lazy in response ? (response as LazyResponse).#lazy : undefined;
  }

  /** The real Response, built on first need from what was given. */
  static materialize(response: LazyResponse): Response {
    if (!response.#real) {
      const lazy = response.#lazy!;
      const headers = response.headers;
      response.#real = new RealResponse(lazy.body as BodyInit | null, { status: lazy.status, statusText: lazy.statusText, headers });
      response.#lazy = undefined;
    }
    return response.#real;
  }
}

// Everything not answered above is answered by the real Response, built on demand.
delegateToReal(LazyResponse, RealResponse, (lazy) => LazyResponse.materialize(lazy));
(globalThis as Record<symbol, unknown>)[LAZY_RESPONSE_KEY] = LazyResponse;

function simpleBodyOf(body: BodyInit | null | undefined): SimpleBody | undefined {
  if (body === null || body === undefined) return null;
  if (typeof body === "string") return body;
  // undici copies buffer bodies at construction; so do we, so later writes to them don't show.
  if (body instanceof ArrayBuffer) return new Uint8Array(body.slice(0));
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  return undefined;
}

/** Inits undici would accept without complaint; anything else is left to undici (and its errors). */
function isSimpleInit(init: ResponseInit | undefined, body: SimpleBody): boolean {
  if (init === undefined) return true;
  if (typeof init !== "object" || init === null) return false;
  const { status, statusText } = init;
  if (status !== undefined && (!Number.isInteger(status) || status < 200 || status > 599)) return false;
  if (body !== null && status !== undefined && NULL_BODY_STATUSES.has(status)) return false;
  if (statusText !== undefined && (typeof statusText !== "string" || !REASON_PHRASE.test(statusText))) return false;
  return true;
}
