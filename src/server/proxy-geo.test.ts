import assert from "node:assert/strict";
import { test } from "node:test";
import type * as Party from "../types/party.js";
import { startTestServer, type TestServerOptions } from "../testing/index.js";
import { CLOUDFLARE_GEO_HEADERS, resolveGeoHeaders } from "./proxy-geo.js";

/** Echoes `request.cf`, for requests and (first message) for WebSockets. */
class EchoCf implements Party.Server {
  constructor(readonly room: Party.Room) {}
  onRequest(req: Party.Request) {
    return Response.json(req.cf ?? null);
  }
  onConnect(conn: Party.Connection, ctx: Party.ConnectionContext) {
    conn.send(JSON.stringify(ctx.request.cf ?? null));
  }
}

/** Every header of Cloudflare's visitor location transform, plus cf-ipcountry. */
const CLOUDFLARE_SENT = {
  "cf-ipcountry": "BR",
  "cf-ipcity": "S\u00c3\u00a3o Paulo", // "São Paulo" as UTF-8 bytes, which Node reads as latin1
  "cf-ipcontinent": "SA",
  "cf-region": "Sao Paulo",
  "cf-region-code": "SP",
  "cf-metro-code": "0",
  "cf-postal-code": "01000-000",
  "cf-iplatitude": "-23.54750",
  "cf-iplongitude": "-46.63611",
  "cf-timezone": "America/Sao_Paulo",
};
const CLOUDFLARE_FIELDS = {
  country: "BR",
  city: "São Paulo",
  continent: "SA",
  region: "Sao Paulo",
  regionCode: "SP",
  metroCode: "0",
  postalCode: "01000-000",
  latitude: "-23.54750",
  longitude: "-46.63611",
  timezone: "America/Sao_Paulo",
};
const GEO_NAMES = Object.keys(CLOUDFLARE_FIELDS);

async function withServer(options: Omit<TestServerOptions, "parties">, body: (server: Awaited<ReturnType<typeof startTestServer>>) => Promise<void>) {
  const server = await startTestServer({ parties: EchoCf, memory: true, ...options });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

async function cfOver(server: Awaited<ReturnType<typeof startTestServer>>, headers: Record<string, string>): Promise<Party.RequestCf> {
  const response = await server.fetch("/parties/main/geo", { headers });
  assert.equal(response.status, 200);
  return (await response.json()) as Party.RequestCf;
}

function geoOf(cf: Party.RequestCf): Record<string, unknown> {
  return Object.fromEntries(Object.entries(cf).filter(([key]) => GEO_NAMES.includes(key)));
}

test("without trustProxy, geo headers a client sends never reach request.cf (HTTP and WebSocket)", async () => {
  await withServer({}, async (server) => {
    const cf = await cfOver(server, CLOUDFLARE_SENT);
    assert.deepEqual(geoOf(cf), {});
    assert.equal(cf.httpProtocol, "HTTP/1.1", "the connection facts are still there");
    const socket = await server.connect("/parties/main/geo", { headers: CLOUDFLARE_SENT });
    assert.deepEqual(geoOf(JSON.parse(await socket.nextText()) as Party.RequestCf), {});
  });
  // Nor are the names configured for a proxy.
  await withServer({ proxyGeoHeaders: { country: "x-geo-country" } }, async (server) => {
    assert.deepEqual(geoOf(await cfOver(server, { "x-geo-country": "FR", "cf-ipcountry": "DE" })), {});
  });
});

test("with trustProxy, Cloudflare's geo headers fill request.cf (HTTP and WebSocket)", async () => {
  await withServer({ trustProxy: true }, async (server) => {
    assert.deepEqual(geoOf(await cfOver(server, CLOUDFLARE_SENT)), CLOUDFLARE_FIELDS);
    const socket = await server.connect("/parties/main/geo", { headers: { "CF-IPCountry": "NZ" } });
    assert.deepEqual(geoOf(JSON.parse(await socket.nextText()) as Party.RequestCf), { country: "NZ" });
    // Absent and empty headers leave the field absent, never a made-up value.
    assert.deepEqual(geoOf(await cfOver(server, { "cf-ipcountry": "" })), {});
  });
});

test("proxyGeoHeaders names another proxy's headers; null stops reading a field", async () => {
  const proxyGeoHeaders = { country: "X-Geo-Country", city: "x-geo-city", region: null };
  await withServer({ trustProxy: true, proxyGeoHeaders }, async (server) => {
    const cf = await cfOver(server, {
      "x-geo-country": "FR",
      "x-geo-city": "Paris",
      "cf-ipcountry": "DE", // replaced by x-geo-country: ignored
      "cf-region": "Bavaria", // region: null
      "cf-timezone": "Europe/Paris", // not configured: Cloudflare's name still applies
    });
    assert.deepEqual(geoOf(cf), { country: "FR", city: "Paris", timezone: "Europe/Paris" });
  });
});

test("a value that is not UTF-8 is kept as Node read it", async () => {
  await withServer({ trustProxy: true }, async (server) => {
    // 0xE9 alone is not UTF-8: a proxy that sends latin1 keeps its "é".
    assert.equal((await cfOver(server, { "cf-ipcity": "Montr\u00e9al" })).city, "Montréal");
  });
});

test("resolveGeoHeaders: Cloudflare's names by default; a bad field or header name is a TypeError", () => {
  assert.deepEqual(new Map(resolveGeoHeaders()), new Map(Object.entries(CLOUDFLARE_GEO_HEADERS)));
  assert.deepEqual(
    resolveGeoHeaders({ country: "X-Country", city: null }).filter(([field]) => field === "country" || field === "city"),
    [["country", "x-country"]],
  );
  assert.throws(() => resolveGeoHeaders({ planet: "x-planet" } as never), /proxyGeoHeaders\.planet is not a geo field/);
  assert.throws(() => resolveGeoHeaders({ country: "x geo" }), /proxyGeoHeaders\.country is not a header name/);
  assert.throws(() => resolveGeoHeaders({ country: "" }), TypeError);
});
