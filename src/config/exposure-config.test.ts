import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCli } from "../cli/args.js";
import { loadConfig } from "./load.js";
import { parseSize } from "./size.js";
import { tempProjects } from "./test-support.js";

const project = tempProjects();
const server = "export default class {}\n";

test("sizes: bytes or a number with k/m/g (powers of 1024)", () => {
  assert.equal(parseSize(1024), 1024);
  assert.equal(parseSize("100mb"), 100 * 1024 * 1024);
  assert.equal(parseSize("512 KiB"), 512 * 1024);
  assert.equal(parseSize("1.5g"), 1.5 * 1024 ** 3);
  for (const bad of ["", "ten", "-1", "5 parsecs", -3, 1.5]) assert.equal(parseSize(bad), null, String(bad));
});

test("maxBodySize, allowedOrigins, trustProxy and maxEventMs come from the config, the flags win", async () => {
  const p = await project({
    "partykit.json": JSON.stringify({ main: "s.ts", maxBodySize: "1mb", allowedOrigins: ["https://a.test"], trustProxy: true, maxEventMs: 5000 }),
    "s.ts": server,
  });
  const fromFile = await loadConfig({ cwd: p.dir, mode: "start" });
  assert.equal(fromFile.maxBodyBytes, 1024 * 1024);
  assert.deepEqual(fromFile.allowedOrigins, ["https://a.test"]);
  assert.equal(fromFile.trustProxy, true);
  assert.equal(fromFile.maxEventMs, 5000);

  const command = parseCli(["start", "--max-body-size", "2kb", "--allowed-origins", "https://b.test, https://c.test", "--max-event-ms", "100"]);
  assert.equal(command.kind, "run");
  if (command.kind !== "run") return;
  const flagged = await loadConfig({ cwd: p.dir, mode: "start", overrides: command.overrides });
  assert.equal(flagged.maxBodyBytes, 2048);
  assert.deepEqual(flagged.allowedOrigins, ["https://b.test", "https://c.test"]);
  assert.equal(flagged.maxEventMs, 100);

  const bare = await project({ "partykit.json": JSON.stringify({ main: "s.ts" }), "s.ts": server });
  const defaults = await loadConfig({ cwd: bare.dir, mode: "start" });
  assert.equal(defaults.trustProxy, false);
  assert.equal(defaults.maxBodyBytes, undefined);
  assert.equal(defaults.allowedOrigins, undefined);
});

test("bad values are errors naming the key or flag", async () => {
  const p = await project({ "partykit.json": JSON.stringify({ main: "s.ts", maxBodySize: "lots" }), "s.ts": server });
  await assert.rejects(loadConfig({ cwd: p.dir, mode: "start" }), /"maxBodySize" must be/);
  assert.throws(() => parseCli(["start", "--max-body-size", "huge"]), /--max-body-size/);
  assert.throws(() => parseCli(["start", "--max-event-ms", "0"]), /--max-event-ms/);
});

test("proxyGeoHeaders: checked field by field, kept as written, and only read with trustProxy", async () => {
  const proxyGeoHeaders = { country: "x-geo-country", city: null };
  const p = await project({ "partykit.json": JSON.stringify({ main: "s.ts", trustProxy: true, proxyGeoHeaders }), "s.ts": server });
  const trusted = await loadConfig({ cwd: p.dir, mode: "start" });
  assert.deepEqual(trusted.proxyGeoHeaders, proxyGeoHeaders);
  assert.deepEqual(trusted.warnings, []);

  // Set, but without trustProxy nothing reads it: say so rather than silently ignore it.
  const untrusted = await project({ "partykit.json": JSON.stringify({ main: "s.ts", proxyGeoHeaders }), "s.ts": server });
  const config = await loadConfig({ cwd: untrusted.dir, mode: "start" });
  assert.deepEqual(config.warnings, ['partykit.json: "proxyGeoHeaders" is only read with trustProxy (or --trust-proxy); request.cf gets no geo fields']);
  const flagged = await loadConfig({ cwd: untrusted.dir, mode: "start", overrides: { trustProxy: true } });
  assert.deepEqual(flagged.warnings, []);

  const bad: Array<[unknown, RegExp]> = [
    ["x-geo-country", /"proxyGeoHeaders" must be an object/],
    [{ planet: "x-planet" }, /"proxyGeoHeaders\.planet" is not a request\.cf geo field \(use country, city, /],
    [{ country: 1 }, /"proxyGeoHeaders\.country" must be a header name such as "x-geo-country", or null/],
    [{ country: "" }, /"proxyGeoHeaders\.country" must be a header name/],
    [{ city: "x geo city" }, /"proxyGeoHeaders\.city" must be a header name/],
  ];
  for (const [value, error] of bad) {
    const q = await project({ "partykit.json": JSON.stringify({ main: "s.ts", trustProxy: true, proxyGeoHeaders: value }), "s.ts": server });
    await assert.rejects(loadConfig({ cwd: q.dir, mode: "start" }), error, JSON.stringify(value));
  }
});
