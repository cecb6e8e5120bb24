import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "./errors.js";
import { loadConfig } from "./load.js";
import { tempProjects } from "./test-support.js";

const project = tempProjects();

const server = "export default class {}\n";

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes("\n"), "config errors are one line");
    return true;
  });
}

test("discovery walks up from cwd and paths are relative to the config file", async () => {
  const p = await project({ "partykit.json": `{ "main": "src/server.ts" }`, "src/server.ts": server });
  await mkdir(join(p.dir, "a/b"), { recursive: true });
  const config = await loadConfig({ cwd: join(p.dir, "a/b"), mode: "dev" });
  assert.equal(config.configPath, join(p.dir, "partykit.json"));
  assert.equal(config.root, p.dir);
  assert.equal(config.main, join(p.dir, "src/server.ts"));
});

test("partykit.json beats .json5 beats .jsonc beats package.json#partykit", async () => {
  const p = await project({
    "a.ts": server,
    "b.ts": server,
    "c.ts": server,
    "d.ts": server,
    "package.json": JSON.stringify({ name: "x", partykit: { main: "d.ts" } }),
  });
  const mainOf = async () => (await loadConfig({ cwd: p.dir, mode: "dev" })).main;
  assert.equal(await mainOf(), join(p.dir, "d.ts"));
  await p.write({ "partykit.jsonc": `{ "main": "c.ts" }` });
  assert.equal(await mainOf(), join(p.dir, "c.ts"));
  await p.write({ "partykit.json5": `{ main: "b.ts" }` });
  assert.equal(await mainOf(), join(p.dir, "b.ts"));
  await p.write({ "partykit.json": `{ "main": "a.ts" }` });
  assert.equal(await mainOf(), join(p.dir, "a.ts"));
});

test("a config file anywhere up the tree beats a nearer package.json#partykit", async () => {
  const p = await project({
    "partykit.json": `{ "main": "root.ts" }`,
    "root.ts": server,
    "sub/package.json": JSON.stringify({ partykit: { main: "pkg.ts" } }),
    "sub/pkg.ts": server,
  });
  const config = await loadConfig({ cwd: join(p.dir, "sub"), mode: "dev" });
  assert.equal(config.main, join(p.dir, "root.ts"));
});

test("-c overrides discovery and the script overrides main (relative to cwd)", async () => {
  const p = await project({
    "partykit.json": `{ "main": "a.ts" }`,
    "a.ts": server,
    "other/custom.json": `{ "main": "b.ts" }`,
    "other/b.ts": server,
    "c.ts": server,
  });
  const fromFlag = await loadConfig({ cwd: p.dir, configPath: "other/custom.json", mode: "dev" });
  assert.equal(fromFlag.main, join(p.dir, "other/b.ts"));
  const fromScript = await loadConfig({ cwd: p.dir, script: "c.ts", mode: "dev" });
  assert.equal(fromScript.main, join(p.dir, "c.ts"));
  await rejectsWith(loadConfig({ cwd: p.dir, configPath: "nope.json", mode: "dev" }), /config file not found: .*nope\.json/);
});

test("-c may name a package.json, whose partykit field is the config", async () => {
  const p = await project({
    "app/package.json": JSON.stringify({ name: "app", partykit: { main: "s.ts", port: 3000 } }),
    "app/s.ts": server,
    "plain/package.json": JSON.stringify({ name: "plain" }),
  });
  const config = await loadConfig({ cwd: p.dir, configPath: "app/package.json", mode: "dev" });
  assert.equal(config.main, join(p.dir, "app/s.ts"));
  assert.equal(config.port, 3000);
  await rejectsWith(
    loadConfig({ cwd: p.dir, configPath: "plain/package.json", mode: "dev" }),
    /plain\/package\.json: has no "partykit" field/,
  );
  await rejectsWith(loadConfig({ cwd: join(p.dir, "plain"), mode: "dev" }), /no partykit\.json found/);
});

test("a script alone runs without any config file", async () => {
  const p = await project({ "server.ts": server });
  const config = await loadConfig({ cwd: p.dir, script: "server.ts", mode: "start" });
  assert.equal(config.configPath, null);
  assert.equal(config.root, p.dir);
  assert.equal(config.main, join(p.dir, "server.ts"));
});

test("JSON5 comments and trailing commas are accepted in every config file name", async () => {
  const p = await project({
    "partykit.json": `{
      // the server
      "main": "s.ts", /* block */
      "port": 4000,
    }`,
    "s.ts": server,
  });
  const config = await loadConfig({ cwd: p.dir, mode: "dev" });
  assert.equal(config.port, 4000);
});

test("missing config, invalid JSON, unknown keys and bad types are one-line ConfigErrors", async () => {
  const empty = await project({});
  await rejectsWith(loadConfig({ cwd: empty.dir, mode: "dev" }), /no partykit\.json found/);

  const broken = await project({ "partykit.json": `{ "main": ` });
  await rejectsWith(loadConfig({ cwd: broken.dir, mode: "dev" }), /^partykit\.json: invalid JSON: /);

  const unknown = await project({ "partykit.json": `{ "main": "s.ts", "foo": 1 }`, "s.ts": server });
  await rejectsWith(loadConfig({ cwd: unknown.dir, mode: "dev" }), /^partykit\.json: unknown key "foo"$/);

  const nested = await project({ "partykit.json": `{ "main": "s.ts", "build": { "comand": "x" } }`, "s.ts": server });
  await rejectsWith(loadConfig({ cwd: nested.dir, mode: "dev" }), /unknown key "build\.comand"/);

  const badType = await project({ "partykit.json": `{ "main": "s.ts", "port": "80" }`, "s.ts": server });
  await rejectsWith(loadConfig({ cwd: badType.dir, mode: "dev" }), /"port" must be a whole number/);

  const badName = await project({ "partykit.json": `{ "main": "s.ts", "name": "My App" }`, "s.ts": server });
  await rejectsWith(loadConfig({ cwd: badName.dir, mode: "dev" }), /"name" may only contain/);

  const badCron = await project({ "partykit.json": `{ "main": "s.ts", "crons": { "x": "* *" } }`, "s.ts": server });
  await rejectsWith(loadConfig({ cwd: badCron.dir, mode: "dev" }), /"crons\.x" must be a cron expression/);
});

test("main and party files are checked", async () => {
  const noMain = await project({ "partykit.json": `{ "name": "app" }` });
  await rejectsWith(loadConfig({ cwd: noMain.dir, mode: "dev" }), /"main" is missing/);

  const missingMain = await project({ "partykit.json": `{ "main": "gone.ts" }` });
  await rejectsWith(loadConfig({ cwd: missingMain.dir, mode: "dev" }), /"main" points to a missing file: gone\.ts/);

  const missingParty = await project({ "partykit.json": `{ "main": "s.ts", "parties": { "chat": "chat.ts" } }`, "s.ts": server });
  await rejectsWith(loadConfig({ cwd: missingParty.dir, mode: "dev" }), /"parties\.chat" points to a missing file/);

  const mainParty = await project({ "partykit.json": `{ "main": "s.ts", "parties": { "main": "s.ts" } }`, "s.ts": server });
  await rejectsWith(loadConfig({ cwd: mainParty.dir, mode: "dev" }), /"parties\.main" is not allowed/);

  const badParty = await project({ "partykit.json": `{ "main": "s.ts", "parties": { "Chat": "s.ts" } }`, "s.ts": server });
  await rejectsWith(loadConfig({ cwd: badParty.dir, mode: "dev" }), /"parties\.Chat" has an invalid party name/);

  const ok = await project({
    "partykit.json": `{ "main": "s.ts", "parties": { "chat-room": "p/chat.ts", "game_1": "p/game.ts" } }`,
    "s.ts": server,
    "p/chat.ts": server,
    "p/game.ts": server,
  });
  const config = await loadConfig({ cwd: ok.dir, mode: "dev" });
  assert.deepEqual(config.parties, { "chat-room": join(ok.dir, "p/chat.ts"), game_1: join(ok.dir, "p/game.ts") });
});

test("every documented key is accepted; Cloudflare-only keys are listed, not warned about", async () => {
  const p = await project({
    "partykit.json": JSON.stringify({
      $schema: "https://www.partykit.io/schema.json",
      name: "my-app",
      main: "s.ts",
      parties: { other: "s.ts" },
      port: 2000,
      persist: false,
      vars: { A: 1 },
      define: { X: "1" },
      serve: { path: "public", singlePageApp: true, browserTTL: 10, edgeTTL: null, build: "client.ts" },
      build: { command: "true", cwd: ".", watch: ["src", "lib"], alias: { a: "./b" } },
      compatibilityDate: "2024-07-18",
      compatibilityFlags: ["nodejs_compat"],
      minify: true,
      crons: { nightly: "0 3 * * *" },
      team: "t",
      preview: "p",
      domain: "example.com",
      ai: true,
      vectorize: { idx: "name" },
      bindings: { kv: { K: "id" } },
      logpush: true,
      tailConsumers: ["tail"],
      analytics: true,
      placement: { mode: "smart" },
      observability: { enabled: true, head_sampling_rate: 1 },
    }),
    "s.ts": server,
    "client.ts": "",
  });
  const config = await loadConfig({ cwd: p.dir, mode: "dev" });
  assert.equal(config.name, "my-app");
  assert.equal(config.port, 2000);
  assert.equal(config.persist, false);
  assert.equal(config.minify, true);
  assert.deepEqual(config.crons, { nightly: "0 3 * * *" });
  assert.equal(config.compatibilityDate, "2024-07-18");
  assert.equal(config.serve?.path, join(p.dir, "public"));
  assert.equal(config.serve?.singlePageApp, true);
  assert.equal(config.serve?.edgeTTL, null);
  assert.deepEqual(config.serve?.build?.entry, [join(p.dir, "client.ts")]);
  assert.equal(config.serve?.build?.outdir, join(p.dir, "public/dist"));
  assert.equal(config.build?.command, "true");
  assert.deepEqual(config.build?.watch, [join(p.dir, "src"), join(p.dir, "lib")]);
  assert.deepEqual(config.ignoredKeys, ["team", "preview", "domain", "ai", "vectorize", "bindings", "logpush",
    "tailConsumers", "analytics", "placement", "observability", "compatibilityDate", "compatibilityFlags"]);
  // The CLI notes them in one info line (cli/ignored-keys-note.ts); nothing here is a warning.
  assert.deepEqual(config.warnings, []);
});

test("unknown keys inside serve only warn, as PartyKit strips them", async () => {
  const p = await project({
    "partykit.json": `{ "main": "s.ts", "serve": { "path": "public", "extra": 1 } }`,
    "s.ts": server,
    "public/index.html": "",
  });
  const config = await loadConfig({ cwd: p.dir, mode: "dev" });
  assert.deepEqual(config.warnings, ['partykit.json: unknown key "serve.extra" is ignored']);
});

test("vars: config < .env < .env.local (dev only) < --var; config vars keep JSON types, --var values stay strings (as on PartyKit)", async () => {
  const p = await project({
    "partykit.json": JSON.stringify({
      main: "s.ts",
      vars: { FROM_CONFIG: { nested: true }, A: "config", B: "config", C: "config", D: 7 },
    }),
    "s.ts": server,
    ".env": "A=env\nB=env\nC=env\n",
    ".env.local": "B=local\nC=local\n",
  });
  const overrides = { vars: { C: "flag", NUM: "42", BOOL: "true", OBJ: '{"x":[1]}', WORD: "hello", NUL: "null" } };
  const dev = await loadConfig({ cwd: p.dir, mode: "dev", overrides });
  assert.deepEqual(dev.vars, {
    FROM_CONFIG: { nested: true },
    A: "env",
    B: "local",
    C: "flag",
    D: 7,
    NUM: "42",
    BOOL: "true",
    OBJ: '{"x":[1]}',
    WORD: "hello",
    NUL: "null",
  });
  assert.deepEqual(dev.dotenv, { A: "env", B: "local", C: "local" });

  const start = await loadConfig({ cwd: p.dir, mode: "start" });
  assert.equal(start.vars.B, "env", ".env.local is for dev only");
  assert.deepEqual(start.dotenv, { A: "env", B: "env", C: "env" });
});

test("define: config < --define", async () => {
  const p = await project({
    "partykit.json": JSON.stringify({ main: "s.ts", define: { A: '"file"', B: '"file"' } }),
    "s.ts": server,
  });
  const config = await loadConfig({ cwd: p.dir, mode: "dev", overrides: { define: { B: '"flag"', C: "3" } } });
  assert.deepEqual(config.define, { A: '"file"', B: '"flag"', C: "3" });
});

test("clusterTls: files relative to the config, flags relative to the cwd; all three or none; only with a cluster", async () => {
  const p = await project({
    "partykit.json": JSON.stringify({ main: "s.ts", cluster: "postgres://db/x", clusterTls: { cert: "tls/n.crt", key: "tls/n.key", ca: "tls/ca.crt" } }),
    "s.ts": server,
  });
  const config = await loadConfig({ cwd: p.dir, mode: "start" });
  assert.deepEqual(config.cluster?.tls, { cert: join(p.dir, "tls/n.crt"), key: join(p.dir, "tls/n.key"), ca: join(p.dir, "tls/ca.crt") });
  const flagged = await loadConfig({ cwd: join(p.dir, "tls"), mode: "start", overrides: { clusterTls: { cert: "other.crt" } } });
  assert.equal(flagged.cluster?.tls?.cert, join(p.dir, "tls/other.crt"));
  assert.equal(flagged.cluster?.tls?.ca, join(p.dir, "tls/ca.crt"));
  const bare = await project({ "partykit.json": JSON.stringify({ main: "s.ts" }), "s.ts": server });
  await rejectsWith(loadConfig({ cwd: bare.dir, mode: "start", overrides: { cluster: "postgres://db/x", clusterTls: { cert: "n.crt" } } }), /needs a certificate, its key and the CA/);
  await rejectsWith(loadConfig({ cwd: bare.dir, mode: "start", overrides: { clusterTls: { cert: "n.crt", key: "n.key", ca: "ca.crt" } } }), /only mean something with --cluster/);
});

test("defaults and flag overrides for port, host and persist", async () => {
  const p = await project({
    "partykit.json": `{ "main": "s.ts" }`,
    "s.ts": server,
    "sub/.keep": "",
  });
  const dev = await loadConfig({ cwd: p.dir, mode: "dev" });
  assert.equal(dev.port, 1999);
  assert.equal(dev.host, "127.0.0.1");
  assert.equal(dev.persist, join(p.dir, ".partyhouse"));
  const start = await loadConfig({ cwd: p.dir, mode: "start" });
  assert.equal(start.host, "0.0.0.0");

  const sub = join(p.dir, "sub");
  const flagged = await loadConfig({ cwd: sub, mode: "dev", overrides: { port: 0, host: "::1", persist: "data" } });
  assert.equal(flagged.port, 0);
  assert.equal(flagged.host, "::1");
  assert.equal(flagged.persist, join(sub, "data"), "a --persist path is relative to the cwd");
  assert.equal((await loadConfig({ cwd: sub, mode: "dev", overrides: { persist: false } })).persist, false);
  assert.equal((await loadConfig({ cwd: sub, mode: "dev", overrides: { persist: true } })).persist, join(p.dir, ".partyhouse"));

  await p.write({ "partykit.json": `{ "main": "s.ts", "persist": "state" }` });
  assert.equal((await loadConfig({ cwd: sub, mode: "dev" })).persist, join(p.dir, "state"));
});

test("serve: a string or --serve; a missing folder without a client build is an error", async () => {
  const p = await project({ "partykit.json": `{ "main": "s.ts", "serve": "public" }`, "s.ts": server });
  await rejectsWith(loadConfig({ cwd: p.dir, mode: "dev" }), /"serve" folder not found: public/);
  await p.write({ "public/index.html": "hi", "www/index.html": "hi" });
  assert.equal((await loadConfig({ cwd: p.dir, mode: "dev" })).serve?.path, join(p.dir, "public"));
  const flagged = await loadConfig({ cwd: p.dir, mode: "dev", overrides: { serve: "www" } });
  assert.equal(flagged.serve?.path, join(p.dir, "www"));
  await rejectsWith(loadConfig({ cwd: p.dir, mode: "dev", overrides: { serve: "nowhere" } }), /^--serve folder not found/);
});
