/**
 * Exposure limits of one server: request body sizes, the process-wide budget for bodies being
 * read, which Origins may reach user code, and whether client-address and geo headers are believed.
 * Every default here is listed in the README's "Security and limits" section.
 */
import { DEFAULT_GEO_HEADERS, resolveGeoHeaders, type GeoHeaderList, type ProxyGeoHeaders } from "./proxy-geo.js";

/** Cloudflare's request body limit (Free and Pro plans): 100 MB. */
export const DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024;
/**
 * Bytes of request bodies read by user code whose responses are not finished yet, over all
 * requests. Bounds what concurrent large uploads can make the process hold (each body is
 * usually copied once more by `text()` / `json()`), so memory cannot be exhausted by strangers.
 */
export const DEFAULT_BODY_BUDGET_BYTES = 256 * 1024 * 1024;
/** Seconds a client is asked to wait after a 503 (body budget full, server shutting down). */
export const RETRY_AFTER_SECONDS = 1;

export interface ExposureOptions {
  /** Largest request body accepted, in bytes (413 above it). Default 100 MiB. */
  maxBodyBytes?: number;
  /** Process-wide bytes of request bodies in flight (503 above it). Default 256 MiB. */
  bodyBudgetBytes?: number;
  /**
   * Origins (`https://app.example.com`) whose browsers may open WebSockets and send requests;
   * others get 403 before user code. Requests without an Origin header and same-origin requests
   * (Origin matches Host) always pass. Undefined or containing "*": every Origin passes.
   */
  allowedOrigins?: readonly string[];
  /** Believe client-sent x-forwarded-for / cf-connecting-ip / x-real-ip and geo headers (behind a proxy). Default false. */
  trustProxy?: boolean;
  /** With trustProxy: the headers `request.cf`'s geo fields come from, over Cloudflare's names (proxy-geo.ts). */
  proxyGeoHeaders?: ProxyGeoHeaders;
}

export interface ResolvedExposure {
  readonly maxBodyBytes: number;
  readonly bodyBudgetBytes: number;
  /** null: every Origin passes. */
  readonly allowedOrigins: ReadonlySet<string> | null;
  readonly trustProxy: boolean;
  /** Read only when trustProxy is on. */
  readonly geoHeaders: GeoHeaderList;
}

export function resolveExposure(options: ExposureOptions = {}): ResolvedExposure {
  const origins = options.allowedOrigins;
  return {
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    bodyBudgetBytes: options.bodyBudgetBytes ?? DEFAULT_BODY_BUDGET_BYTES,
    allowedOrigins: origins === undefined || origins.includes("*") ? null : new Set(origins.map(normalizeOrigin)),
    trustProxy: options.trustProxy === true,
    geoHeaders: options.proxyGeoHeaders === undefined ? DEFAULT_GEO_HEADERS : resolveGeoHeaders(options.proxyGeoHeaders),
  };
}

/** `https://App.example.com/` and `https://app.example.com` are the same origin. */
export function normalizeOrigin(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    return origin;
  }
}
