/**
 * The `proxyGeoHeaders` key (a partyhouse extension): which headers of a trusted proxy fill
 * `request.cf`'s geo fields, e.g. `{ "country": "x-geo-country", "city": null }`. Fields left
 * out keep Cloudflare's header names; null stops reading a field (src/server/proxy-geo.ts).
 */
import type { Checker } from "./check.js";
import { GEO_FIELDS, isGeoField, isHeaderName, type ProxyGeoHeaders } from "../server/proxy-geo.js";

export function validateProxyGeoHeaders(check: Checker, value: unknown): ProxyGeoHeaders {
  const input = check.object(value, "proxyGeoHeaders");
  const headers: ProxyGeoHeaders = {};
  for (const [field, name] of Object.entries(input)) {
    const path = `proxyGeoHeaders.${field}`;
    if (!isGeoField(field)) check.fail(path, `is not a request.cf geo field (use ${GEO_FIELDS.join(", ")})`);
    if (name !== null && (typeof name !== "string" || !isHeaderName(name))) {
      check.fail(path, "must be a header name such as \"x-geo-country\", or null to leave the field unset");
    }
    headers[field] = name;
  }
  return headers;
}
