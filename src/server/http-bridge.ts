/**
 * The seam between node:http and the web-standard Request/Response that user code sees.
 * Every HTTP request crosses it twice, so the common cases (no request body, small response
 * body) take paths that avoid web streams.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { RequestCf } from "../types/party.js";
import type { BodyMeter } from "./body-budget.js";
import { drained } from "./drained.js";
import { atEndOfTurn } from "./end-of-turn.js";
import { type HeaderFill, LazyRequest } from "./lazy-request.js";
import { impliedContentType, LazyResponse } from "./lazy-response.js";
import { addProxyGeo, DEFAULT_GEO_HEADERS, type GeoHeaderList } from "./proxy-geo.js";
import { requestBodyOf } from "./request-body.js";
import { requestTarget, type RequestTarget } from "./request-target.js";

export type BridgedRequest = Request & { cf: RequestCf };

export interface ToWebRequestInfo {
  /** Used when the Host header is missing or unusable, e.g. "http://127.0.0.1:1999". */
  origin?: string;
  /** Counts the body as user code reads it (limit and process-wide budget). */
  meter?: BodyMeter;
  /**
   * Believe client-sent x-forwarded-for / cf-connecting-ip / x-real-ip (a proxy in front sets
   * them). Off: they are replaced by the socket's address, so per-IP logic cannot be spoofed.
   */
  trustProxy?: boolean;
  /** With trustProxy: the headers `cf`'s geo fields are read from (default: Cloudflare's names). */
  geoHeaders?: GeoHeaderList;
  /** The target the caller already normalized for routing; parsed from `req.url` when absent. */
  target?: RequestTarget;
  /** A LazyRequest where the request has no body (only for code that knows one: options.ts `lazyRequests`). */
  lazy?: boolean;
}

/** A host[:port] as it may appear in a Host header; anything else could re-shape the URL. */
const USABLE_HOST = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

// Node's DOM typings lack `duplex`, which undici requires for a streamed request body.
interface StreamingRequestInit extends RequestInit {
  duplex?: "half";
}

/**
 * The web Request user code sees. With `info.lazy` and no body it is a LazyRequest
 * (lazy-request.ts): an undici Request costs about half of what the bare node:http server
 * spends on a whole request, and a handler rarely needs more than its URL. Otherwise (a body,
 * a method or origin undici would rewrite or refuse) it is a plain undici Request.
 */
export function toWebRequest(req: IncomingMessage, info: ToWebRequestInfo = {}): BridgedRequest {
  const raw = req.rawHeaders;
  const seen = scanHeaders(raw);
  const encrypted = (req.socket as Partial<TLSSocket> | null)?.encrypted === true;
  const origin = originOf(seen.host, info.origin, encrypted);
  const path = pathOf(info.target ?? requestTarget(req.url));
  const method = req.method ?? "GET";
  const trustProxy = info.trustProxy === true;
  const remoteAddress = req.socket?.remoteAddress;
  const fill: HeaderFill = (headers) => fillHeaders(headers, raw, seen, trustProxy, remoteAddress);
  const withBody = method !== "GET" && method !== "HEAD" && seen.hasBody;
  const parsedOrigin = withBody || info.lazy !== true ? null : parsedOriginOf(origin);
  const lazy = parsedOrigin === null ? undefined : LazyRequest.withoutBody(parsedOrigin + path, method, fill);
  let request: BridgedRequest;
  if (lazy !== undefined) {
    request = lazy as unknown as BridgedRequest;
  } else {
    const init: StreamingRequestInit = { method };
    if (withBody) {
      init.body = requestBodyOf(req, info.meter);
      init.duplex = "half";
    }
    request = new Request(origin + path, init) as BridgedRequest;
    // The headers go straight into the Request's own list: building a Headers to pass in `init`
    // made undici copy every header a second time (~1.8 µs of a 4.7 µs request on Node 22). A
    // streamed body adds no content-type of its own, so the list ends up the same.
    fill(request.headers);
  }
  const cf = cfOf(req, encrypted);
  if (trustProxy) addProxyGeo(cf, request.headers, info.geoHeaders ?? DEFAULT_GEO_HEADERS);
  // An own, enumerable, writable property, as Object.defineProperty with all three set made it.
  request.cf = cf;
  return request;
}

/** The client's header list, less the address headers an untrusted client may not set, plus this hop's. */
function fillHeaders(headers: Headers, raw: string[], seen: SeenHeaders, trustProxy: boolean, remoteAddress: string | undefined): void {
  if (trustProxy || !(seen.clientIp || seen.realIp || seen.forwardedFor)) {
    for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  } else {
    for (let i = 0; i < raw.length; i += 2) if (!isClientAddressHeader(raw[i]!)) headers.append(raw[i]!, raw[i + 1]!);
  }
  if (remoteAddress !== undefined) addClientAddress(headers, trustProxy ? seen : NOTHING_SENT, remoteAddress);
}

/**
 * The origin as the URL parser serializes it (host lower-cased, default port dropped, numeric
 * IPv4 forms spelled out), or null where the parser refuses it (a port past 65535): then
 * undici's Request is built and throws as it did. Cached for the last origin seen.
 */
function parsedOriginOf(origin: string): string | null {
  if (origin === lastParsedOrigin.origin) return lastParsedOrigin.parsed;
  let parsed: string | null;
  try {
    parsed = new URL(origin).origin;
  } catch {
    parsed = null;
  }
  lastParsedOrigin.origin = origin;
  lastParsedOrigin.parsed = parsed;
  return parsed;
}

const lastParsedOrigin: { origin: string | undefined; parsed: string | null } = { origin: undefined, parsed: null };

/** Whether Node will read a body for this request (the rule scanHeaders applies). */
export function hasRequestBody(raw: string[]): boolean {
  return scanHeaders(raw).hasBody;
}

interface SeenHeaders {
  host: string | undefined;
  /** Node's parser frames a body only with Content-Length (non-zero) or Transfer-Encoding. */
  hasBody: boolean;
  clientIp: boolean;
  realIp: boolean;
  forwardedFor: boolean;
}

/** As if the client sent no address headers (they are dropped when the proxy is not trusted). */
const NOTHING_SENT: SeenHeaders = { host: undefined, hasBody: false, clientIp: false, realIp: false, forwardedFor: false };

function isClientAddressHeader(name: string): boolean {
  const length = name.length;
  if (length !== 9 && length !== 15 && length !== 16) return false;
  const lower = name.toLowerCase();
  return lower === "x-real-ip" || lower === "x-forwarded-for" || lower === "cf-connecting-ip";
}

/**
 * The few facts we need from the raw header list. Reading `req.headers` instead would make
 * Node build its lowercased header object, which a plain GET otherwise never pays for.
 */
function scanHeaders(raw: string[]): SeenHeaders {
  const seen: SeenHeaders = { host: undefined, hasBody: false, clientIp: false, realIp: false, forwardedFor: false };
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Switch on length first so most names are never lowercased.
    switch (name.length) {
      case 4:
        if (seen.host === undefined && name.toLowerCase() === "host") seen.host = raw[i + 1];
        break;
      case 9:
        if (name.toLowerCase() === "x-real-ip") seen.realIp = true;
        break;
      case 14:
        if (name.toLowerCase() === "content-length" && raw[i + 1] !== "0") seen.hasBody = true;
        break;
      case 15:
        if (name.toLowerCase() === "x-forwarded-for") seen.forwardedFor = true;
        break;
      case 16:
        if (name.toLowerCase() === "cf-connecting-ip") seen.clientIp = true;
        break;
      case 17:
        if (name.toLowerCase() === "transfer-encoding") seen.hasBody = true;
        break;
    }
  }
  return seen;
}

function originOf(host: string | undefined, fallback: string | undefined, encrypted: boolean): string {
  if (host === undefined) return fallback ?? "http://localhost";
  // Nearly every request names the same host as the one before: skip the pattern test then.
  const cache = encrypted ? lastHttpsOrigin : lastHttpOrigin;
  if (host === cache.host) return cache.origin;
  if (!USABLE_HOST.test(host)) return fallback ?? "http://localhost";
  cache.host = host;
  cache.origin = (encrypted ? "https://" : "http://") + host;
  return cache.origin;
}

/** The last usable Host header per scheme and the origin made of it (none yet: no string equals undefined). */
const lastHttpOrigin: { host: string | undefined; origin: string } = { host: undefined, origin: "" };
const lastHttpsOrigin: { host: string | undefined; origin: string } = { host: undefined, origin: "" };

/** The normalized path and query routing used (request-target.ts); "/" for a target nothing parses. */
function pathOf(target: RequestTarget | null): string {
  return target === null ? "/" : target.pathname + target.search;
}

/**
 * What Cloudflare's edge would add and PartyKit code reads. With trustProxy, values the client
 * (the proxy) sent are kept and x-forwarded-for gets this hop appended; without it the caller
 * dropped them and passes NOTHING_SENT, so all three are the socket's address.
 */
function addClientAddress(headers: Headers, seen: SeenHeaders, remoteAddress: string): void {
  const ip = remoteAddress.startsWith("::ffff:") ? remoteAddress.slice(7) : remoteAddress;
  if (!seen.clientIp) headers.append("cf-connecting-ip", ip);
  if (!seen.realIp) headers.append("x-real-ip", ip);
  // Headers joins repeated values with ", ", which is the x-forwarded-for list format.
  headers.append("x-forwarded-for", ip);
}

/** What is known about the connection; geo fields come only from a trusted proxy (proxy-geo.ts), never invented. */
function cfOf(req: IncomingMessage, encrypted: boolean): RequestCf {
  const cf: RequestCf = { httpProtocol: `HTTP/${req.httpVersion}` };
  if (encrypted) {
    const tls = (req.socket as TLSSocket).getProtocol?.();
    if (tls) cf.tlsVersion = tls;
  }
  return cf;
}

export interface SendOptions {
  /** The request was HEAD: send the headers, never a body. */
  head?: boolean;
}

/**
 * Writes a web Response to Node. Streams the body with backpressure; a client that goes away
 * cancels the body. Rejects only if the Response cannot be sent (body already used) — before
 * anything is written — or if the body stream fails midway, after cutting the connection.
 */
export async function sendWebResponse(
  res: ServerResponse,
  response: Response,
  options: SendOptions = {},
): Promise<void> {
  const lazy = LazyResponse.unwrap(response);
  if (lazy !== undefined) return sendLazy(res, lazy, options);
  const body = response.body;
  if (body !== null && (body.locked || response.bodyUsed)) {
    throw new TypeError("Response body has already been used");
  }

  const status = response.status;
  const statusText = response.statusText || undefined;
  const { headers } = headerList(response.headers);

  if (body === null || options.head === true || status === 204 || status === 304) {
    res.writeHead(status, statusText, headers);
    res.end();
    body?.cancel().catch(ignore);
    return;
  }
  // A real Response's body is a stream whose length only its producer knows: it goes out
  // as it comes (with the Content-Length the producer set, else chunked). Bodies whose bytes
  // are known up front take the LazyResponse path above.
  res.writeHead(status, statusText, headers);
  await pipeBody(res, body);
}

/** A LazyResponse that nothing turned into a real one: its parts go straight to the socket. */
function sendLazy(res: ServerResponse, lazy: NonNullable<ReturnType<typeof LazyResponse.unwrap>>, options: SendOptions): void {
  const { headers, hasLength } = lazy.headers ? headerList(lazy.headers) : { headers: [] as string[], hasLength: false };
  const implied = impliedContentType(lazy);
  if (implied !== undefined) headers.push("content-type", implied);
  const body = lazy.body;
  const status = lazy.status;
  if (body !== null && !hasLength) headers.push("content-length", String(byteLengthOf(body)));
  const statusText = lazy.statusText || undefined;
  const withBody = body !== null && options.head !== true && status !== 204 && status !== 304;
  atEndOfTurn(() => {
    res.writeHead(status, statusText, headers);
    if (withBody) res.end(body);
    else res.end();
  });
}

function byteLengthOf(data: string | Uint8Array): number {
  return typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
}

/** Flat [name, value, ...] list, the writeHead form that keeps repeated Set-Cookie lines. */
function headerList(source: Headers): { headers: string[]; hasLength: boolean } {
  const headers: string[] = [];
  let hasLength = false;
  for (const [name, value] of source) {
    if (name === "set-cookie") continue;
    if (name === "content-length") hasLength = true;
    headers.push(name, value);
  }
  for (const cookie of source.getSetCookie()) headers.push("set-cookie", cookie);
  return { headers, hasLength };
}

async function pipeBody(res: ServerResponse, body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  let gone = false;
  const onClose = () => {
    if (res.writableFinished) return;
    gone = true;
    reader.cancel().catch(ignore);
  };
  res.on("close", onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || gone) break;
      if (!res.write(value)) await drained(res);
    }
    if (!gone) res.end();
  } catch (error) {
    if (gone) return;
    res.destroy();
    throw error;
  } finally {
    res.off("close", onClose);
  }
}

/** For the runtime's own answers ("Not found", 500 with a message). */
export function sendText(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) {
    // Too late to change the status; cutting the connection at least signals failure.
    if (!res.writableEnded) res.destroy();
    return;
  }
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

function ignore(): void {}
