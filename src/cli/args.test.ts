import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCli, UsageError, type CliCommand, type RunCommand } from "./args.js";

function usageError(argv: string[], pattern: RegExp): void {
  assert.throws(
    () => parseCli(argv),
    (error: unknown) => error instanceof UsageError && pattern.test(error.message) && !error.message.includes("\n"),
  );
}

test("help and version at the top level and per command", () => {
  assert.deepEqual(parseCli(["--help"]), { kind: "help", topic: "top" });
  assert.deepEqual(parseCli(["-h"]), { kind: "help", topic: "top" });
  assert.deepEqual(parseCli(["help", "start"]), { kind: "help", topic: "start" });
  assert.deepEqual(parseCli(["dev", "--help"]), { kind: "help", topic: "dev" });
  assert.deepEqual(parseCli(["start", "-h"]), { kind: "help", topic: "start" });
  assert.deepEqual(parseCli(["--version"]), { kind: "version" });
});

test("a bare command has no overrides", () => {
  assert.deepEqual(parseCli(["dev"]), { kind: "run", mode: "dev", overrides: {} });
});

test("every flag, long and short", () => {
  const command: CliCommand = parseCli([
    "start",
    "src/server.ts",
    "-p",
    "8080",
    "--host",
    "0.0.0.0",
    "-c",
    "conf/partykit.json",
    "--persist",
    "/data",
    "-v",
    "A=1",
    "--var",
    "B=x=y",
    "-d",
    "DEBUG=true",
    "--define",
    'NAME="n"',
    "--serve",
    "public",
    "--minify",
  ]);
  assert.deepEqual(command, {
    kind: "run",
    mode: "start",
    script: "src/server.ts",
    configPath: "conf/partykit.json",
    overrides: {
      port: 8080,
      host: "0.0.0.0",
      persist: "/data",
      vars: { A: "1", B: "x=y" },
      define: { DEBUG: "true", NAME: '"n"' },
      serve: "public",
      minify: true,
    },
  });
  assert.deepEqual(parseCli(["dev", "--port=0"]), { kind: "run", mode: "dev", overrides: { port: 0 } });
});

test("--var and --define take several KEY=VALUE pairs after one flag, as PartyKit's variadic flags do", () => {
  const overrides = (argv: string[]) => parseCli(argv) as RunCommand;
  assert.deepEqual(overrides(["dev", "--var", "A=1", "B=2", "-v", "C=3", "D=x=y"]).overrides.vars, { A: "1", B: "2", C: "3", D: "x=y" });
  assert.deepEqual(overrides(["dev", "--var=A=1", "B=2"]).overrides.vars, { A: "1", B: "2" });
  assert.deepEqual(overrides(["dev", "-d", "X=1", "Y='y'", "--minify"]).overrides.define, { X: "1", Y: "'y'" });
  // A word without "=" ends the list: it is the script.
  const command = overrides(["dev", "--var", "A=1", "B=2", "src/server.ts"]);
  assert.deepEqual(command.overrides.vars, { A: "1", B: "2" });
  assert.equal(command.script, "src/server.ts");
});

test("--with-env is accepted", () => {
  assert.deepEqual(parseCli(["dev", "--with-env"]), { kind: "run", mode: "dev", overrides: { withEnv: true } });
});

test("--cluster-cert, --cluster-key and --cluster-ca name the files of TLS between nodes", () => {
  const argv = ["start", "--cluster", "postgres://db/x", "--cluster-cert", "n.crt", "--cluster-key", "n.key", "--cluster-ca", "ca.crt"];
  const command = parseCli(argv) as RunCommand;
  assert.deepEqual(command.overrides.clusterTls, { cert: "n.crt", key: "n.key", ca: "ca.crt" });
});

test("--persist alone, true, false, or a path", () => {
  const persist = (argv: string[]) => (parseCli(argv) as { overrides: { persist?: unknown } }).overrides.persist;
  assert.equal(persist(["dev", "--persist"]), true);
  assert.equal(persist(["dev", "--persist", "--port", "1"]), true);
  assert.equal(persist(["dev", "--persist", "false"]), false);
  assert.equal(persist(["dev", "--persist=false"]), false);
  assert.equal(persist(["dev", "--persist=true"]), true);
  assert.equal(persist(["dev", "--persist", "state"]), "state");
});

test("usage errors are one line", () => {
  usageError([], /missing command/);
  usageError(["serve"], /unknown command "serve" \(commands: dev, start, init, backup, restore, export, import, migrate\)/);
  usageError(["--bogus"], /unknown option --bogus/);
  usageError(["dev", "--bogus"], /^unknown option --bogus \(see partyhouse dev --help\)$/);
  usageError(["dev", "--port"], /option -p, --port needs a value/);
  usageError(["dev", "--port", "http"], /--port must be a whole number/);
  usageError(["dev", "--port", "70000"], /--port must be a whole number/);
  usageError(["dev", "--port", "-1"], /--port. argument is ambiguous/);
  usageError(["dev", "--minify=yes"], /does not take an argument/);
  usageError(["dev", "--var", "NOVALUE"], /--var expects KEY=VALUE, got "NOVALUE"/);
  usageError(["dev", "-d", "=1"], /--define expects KEY=VALUE/);
  usageError(["dev", "a.ts", "b.ts"], /at most one script/);
  usageError(["help", "deploy"], /unknown command "deploy"/);
});

test("--hibernate-after takes whole milliseconds", () => {
  assert.equal((parseCli(["start", "--hibernate-after", "250"]) as { hibernateAfterMs?: number }).hibernateAfterMs, 250);
  assert.throws(() => parseCli(["start", "--hibernate-after", "soon"]), /--hibernate-after takes milliseconds/);
});

test("--workers takes a count or auto, for start only", () => {
  const workers = (argv: string[]) => (parseCli(argv) as { overrides: { workers?: unknown } }).overrides.workers;
  assert.equal(workers(["start", "--workers", "4"]), 4);
  assert.equal(workers(["start", "--workers", "auto"]), "auto");
  assert.equal(workers(["start"]), undefined);
  usageError(["start", "--workers", "0"], /--workers takes "auto" or a whole number from 1 to 64/);
  usageError(["start", "--workers", "65"], /--workers takes "auto" or a whole number/);
  usageError(["start", "--workers", "two"], /--workers takes "auto"/);
  usageError(["dev", "--workers", "2"], /--workers is for partyhouse start/);
});
