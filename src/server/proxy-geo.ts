/**
 * `request.cf`'s geo fields from headers a trusted proxy sets. The defaults are Cloudflare's
 * names (`cf-ipcountry`, and the headers of its "Add visitor location headers" managed
 * transform), so partyhouse behind Cloudflare fills `cf.country` as PartyKit code expects;
 * another proxy's names are configured with `proxyGeoHeaders`. They are read only with
 * trustProxy: otherwise any client could claim any country.
 */
import type { RequestCf } from "../types/party.js";

/** The `request.cf` fields a proxy can tell us (Cloudflare types them all as strings). */
export const GEO_FIELDS = [
  "country",
  "city",
  "continent",
  "region",
  "regionCode",
  "metroCode",
  "postalCode",
  "latitude",
  "longitude",
  "timezone",
] as const;

export type GeoField = (typeof GEO_FIELDS)[number];

/** Field to header name; null never reads that field (e.g. a default your proxy passes through from clients). */
export type ProxyGeoHeaders = { [F in GeoField]?: string | null };

export const CLOUDFLARE_GEO_HEADERS: Readonly<Record<GeoField, string>> = {
  country: "cf-ipcountry",
  city: "cf-ipcity",
  continent: "cf-ipcontinent",
  region: "cf-region",
  regionCode: "cf-region-code",
  metroCode: "cf-metro-code",
  postalCode: "cf-postal-code",
  latitude: "cf-iplatitude",
  longitude: "cf-iplongitude",
  timezone: "cf-timezone",
};

/** Which header fills which field, names lowercased; resolved once per server. */
export type GeoHeaderList = ReadonlyArray<readonly [GeoField, string]>;

/** RFC 9110 token: what a header name may be. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function isGeoField(name: string): name is GeoField {
  return (GEO_FIELDS as readonly string[]).includes(name);
}

export function isHeaderName(name: string): boolean {
  return HEADER_NAME.test(name);
}

/** Cloudflare's names, with `configured` over them. Throws a TypeError naming a bad entry. */
export function resolveGeoHeaders(configured: ProxyGeoHeaders = {}): GeoHeaderList {
  for (const key of Object.keys(configured)) {
    if (!isGeoField(key)) throw new TypeError(`proxyGeoHeaders.${key} is not a geo field (one of ${GEO_FIELDS.join(", ")})`);
  }
  const list: Array<readonly [GeoField, string]> = [];
  for (const field of GEO_FIELDS) {
    const name = configured[field] === undefined ? CLOUDFLARE_GEO_HEADERS[field] : configured[field];
    if (name === null) continue;
    if (!isHeaderName(name)) throw new TypeError(`proxyGeoHeaders.${field} is not a header name: ${JSON.stringify(name)}`);
    list.push([field, name.toLowerCase()]);
  }
  return list;
}

export const DEFAULT_GEO_HEADERS: GeoHeaderList = resolveGeoHeaders();

/** Copies each geo header present (and non-empty) into `cf`. */
export function addProxyGeo(cf: RequestCf, headers: Headers, list: GeoHeaderList): void {
  for (const [field, name] of list) {
    const value = headers.get(name);
    if (value) cf[field] = utf8Text(value);
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Node reads header bytes as latin1, and Cloudflare sends non-ASCII values (a city such as
 * "São Paulo") as UTF-8 bytes: decode them again, unless they are not valid UTF-8.
 */
function utf8Text(value: string): string {
  if (!/[^\x00-\x7f]/.test(value)) return value;
  try {
    return UTF8.decode(Buffer.from(value, "latin1"));
  } catch {
    return value;
  }
}
