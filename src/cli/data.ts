/**
 * The data commands (src/data/README.md): which store, which file, and what to say. The work
 * itself is src/data's; here are the defaults (the project's own store, its admin listener),
 * atomic output files, and progress and summary lines on stderr (stdout may carry an export).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { loadConfig } from "../config/load.js";
import { ADMIN_TOKEN_ENV } from "../admin/auth.js";
import { downloadSnapshot } from "../data/admin-client.js";
import { gzipStream, maybeGunzip, wantsGzip } from "../data/compression.js";
import type { CopyProgress } from "../data/copy.js";
import { writeExport, type ExportStats } from "../data/export-writer.js";
import { importExport } from "../data/import.js";
import { openStore, parseLocation, sqliteFolder, type StoreLocation } from "../data/location.js";
import { migrateStore } from "../data/migrate.js";
import type { RoomFilter } from "../data/records.js";
import { SqliteStore } from "../data/sqlite-store.js";
import { SyncedFileWriter } from "../data/synced-file.js";
import type { Store, StoreReader } from "../data/store.js";
import { DataFolderInUseError } from "../storage/folder-lock-error.js";
import type { CliContext } from "./context.js";
import { UsageError } from "./args.js";
import type { DataCommand } from "./data-args.js";

const PROGRESS_EVERY_MS = 2_000;

export async function runData(command: DataCommand, cli: CliContext): Promise<number> {
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const say = (text: string) => cli.writeErr(`partyhouse ${command.op}: ${text}\n`);
  switch (command.op) {
    case "backup":
    case "export": {
      const source = await openSource(command, cli, say);
      try {
        const filter = filterOf(command);
        const stats = await writeOutput(command.file!, cli, (out) =>
          writeExport(source.store.records(filter), out, { source: source.store.description, filter, readable: command.readable }),
        );
        say(`${command.file === "-" ? "wrote" : `wrote ${command.file}:`} ${summary(stats)} in ${seconds(elapsed())}${source.at ? ` (snapshot at ${source.at})` : ""}`);
      } finally {
        await source.close();
      }
      return 0;
    }
    case "restore":
    case "import": {
      const target = await openTarget(command.to, command, cli);
      try {
        const input = await openInput(command.file!);
        const result = await importExport(input, target, {
          operation: command.op,
          filter: filterOf(command),
          replace: command.replace,
          force: command.force,
          onProgress: progressReporter(say),
        });
        const resumed = result.resumedAfterLine > 0 ? ` (resumed after line ${result.resumedAfterLine})` : "";
        say(`${target.description}: wrote ${counts(result.written)}${resumed} from export ${result.header.id || "(no id)"} in ${seconds(elapsed())}; the file's rooms all matched their checksums`);
      } finally {
        await target.close();
      }
      return 0;
    }
    case "migrate": {
      const source = await openStore(parseLocation(command.from!, cli.cwd), { write: false });
      try {
        const target = await openTarget(command.to, command, cli);
        try {
          const result = await migrateStore(source, target, { force: command.force, onProgress: progressReporter(say), onPhase: (phase) => say(`${phase}…`) });
          const { verification } = result;
          say(
            `${source.description} → ${target.description}: copied ${counts(result.copied)}${result.repaired > 0 ? `, repaired ${result.repaired} rooms` : ""} in ${seconds(elapsed())}; ` +
              `verified ${verification.rooms} rooms, ${verification.keys} keys (count and SHA-256 of every room equal on both sides; checksum ${verification.checksum})`,
          );
        } finally {
          await target.close();
        }
      } finally {
        await source.close();
      }
      return 0;
    }
  }
}

function filterOf(command: DataCommand): RoomFilter {
  return { ...(command.party !== undefined ? { party: command.party } : {}), ...(command.prefix !== undefined ? { prefix: command.prefix } : {}) };
}

interface OpenedSource {
  readonly store: StoreReader;
  /** When an online snapshot was taken (through the admin listener). */
  readonly at?: string;
  close(): Promise<void>;
}

/**
 * The store to read: --admin (a running server's consistent copy), --from, or the project's. A
 * data folder that a server holds is read through its admin listener when the config names one.
 */
async function openSource(command: DataCommand, cli: CliContext, say: (text: string) => void): Promise<OpenedSource> {
  const token = command.adminToken ?? ((cli.env ?? process.env)[ADMIN_TOKEN_ENV] || undefined);
  if (command.admin !== undefined) return openOnline(command.admin, token, command.file!, say);
  const project = command.from === undefined ? await projectStore(command, cli) : undefined;
  const location = command.from !== undefined ? parseLocation(command.from, cli.cwd) : project!.location;
  try {
    const store = await openStore(location, { write: false });
    return { store, close: () => store.close() };
  } catch (error) {
    if (!(error instanceof DataFolderInUseError)) throw error;
    if (project?.admin !== undefined) {
      say(`the data folder is in use by a running server; reading it through its admin listener (${project.admin})`);
      return openOnline(project.admin, token, command.file!, say);
    }
    throw new Error(
      `${error.message.split(". ")[0]}: a server is running on it. Read it through that server's admin listener: ` +
        `partyhouse ${command.op} ${command.file} --admin http://127.0.0.1:<admin port> (start it with --admin-port)`,
    );
  }
}

/** Downloads a running server's snapshot next to the output (or to the temp folder for stdout). */
async function openOnline(admin: string, token: string | undefined, output: string, say: (text: string) => void): Promise<OpenedSource> {
  const dir = output === "-" ? os.tmpdir() : path.dirname(path.resolve(output));
  const file = path.join(dir, `.partyhouse-snapshot-${process.pid}-${Date.now()}.sqlite3`);
  try {
    const snapshot = await downloadSnapshot(admin, token, file);
    say(`downloaded a consistent snapshot (${megabytes(snapshot.bytes)}) from ${admin}`);
    const store = SqliteStore.openSnapshot(file, `sqlite snapshot from ${admin}`);
    return {
      store,
      ...(snapshot.at !== undefined ? { at: snapshot.at } : {}),
      async close() {
        await store.close();
        fs.rmSync(file, { force: true });
      },
    };
  } catch (error) {
    fs.rmSync(file, { force: true });
    throw error;
  }
}

async function openTarget(to: string | undefined, command: DataCommand, cli: CliContext): Promise<Store> {
  const location = to !== undefined ? parseLocation(to, cli.cwd) : (await projectStore(command, cli)).location;
  try {
    return await openStore(location, { write: true });
  } catch (error) {
    if (error instanceof DataFolderInUseError) throw new Error(`${error.message.split(". ")[0]}: stop the server using it first (${command.op} writes the store)`);
    throw error;
  }
}

/** The project's store, as `partyhouse start` would open it, and its admin listener if configured. */
async function projectStore(command: DataCommand, cli: CliContext): Promise<{ location: StoreLocation; admin?: string }> {
  const config = await loadConfig({ cwd: cli.cwd, mode: "start", ...(command.configPath !== undefined ? { configPath: command.configPath } : {}) });
  const admin = config.admin?.port !== undefined ? `http://${adminHost(config.admin.host)}:${config.admin.port}` : undefined;
  if (config.cluster !== undefined) return { location: { kind: "postgres", url: config.cluster.url }, ...(admin ? { admin } : {}) };
  if (config.persist === false) throw new UsageError('this project keeps storage in memory ("persist": false): nothing to read or write; pass --from/--to');
  return { location: { kind: "sqlite", dir: sqliteFolder(path.join(config.persist)) }, ...(admin ? { admin } : {}) };
}

function adminHost(host: string | undefined): string {
  if (host === undefined || host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

/** `-` is stdout; a file is written beside itself and renamed into place once complete and synced. */
async function writeOutput(file: string, cli: CliContext, write: (out: Writable) => Promise<ExportStats>): Promise<ExportStats> {
  if (file === "-") {
    // A reader that goes away (`| head`) ends the export, as it ends any command-line tool.
    process.stdout.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(0);
    });
    return write(process.stdout);
  }
  const target = path.resolve(cli.cwd, file);
  const partial = `${target}.partial-${process.pid}`;
  // Synced as it is written (synced-file.ts), and whole once the stream finishes.
  const sink = new SyncedFileWriter(partial);
  const gzip = wantsGzip(target) ? gzipStream() : undefined;
  const written = gzip === undefined ? undefined : pipeline(gzip, sink);
  try {
    const stats = await write(gzip ?? sink);
    (gzip ?? sink).end();
    await (written ?? finished(sink));
    fs.renameSync(partial, target);
    syncDirectory(path.dirname(target));
    return stats;
  } catch (error) {
    sink.destroy();
    fs.rmSync(partial, { force: true });
    throw error;
  }
}

async function openInput(file: string): Promise<Readable> {
  return maybeGunzip(file === "-" ? process.stdin : fs.createReadStream(file));
}

function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function progressReporter(say: (text: string) => void): (progress: CopyProgress) => void {
  let last = performance.now();
  return (progress) => {
    const now = performance.now();
    if (now - last < PROGRESS_EVERY_MS) return;
    last = now;
    say(`… ${counts(progress)} written`);
  };
}

function counts(progress: CopyProgress): string {
  return `${progress.rooms} rooms, ${progress.keys} keys, ${progress.alarms} alarms (${megabytes(progress.bytes)})`;
}

function summary(stats: ExportStats): string {
  return `${stats.rooms} rooms, ${stats.keys} keys, ${stats.alarms} alarms (${megabytes(stats.dataBytes)} of data, ${megabytes(stats.outputBytes)} of export)`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function seconds(value: number): string {
  return `${value.toFixed(1)} s`;
}

