/**
 * An incremental esbuild context for the server bundle. Each build writes a new file with a
 * unique name (ES modules are cached by URL, so a reload must import a new one) and removes
 * the files of builds before the previous one.
 */
import { mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { context, type BuildContext, type BuildOptions } from "esbuild";
import type { ResolvedConfig } from "../config/types.js";
import { runBuildCommand } from "./command.js";
import { serverDefines } from "./defines.js";
import { synthesizeEntry } from "./entry.js";
import { BuildError, toBuildError } from "./errors.js";
import { binaryModulesPlugin, partyTypesPlugin, singletonPackagesPlugin } from "./plugins.js";

export interface BundleOptions {
  /** Folder the bundle is written to (created if missing). */
  outdir: string;
  /** `PARTYKIT_HOST` as the bundle sees it, e.g. "127.0.0.1:1999". */
  host: string;
}

export interface BundleResult {
  /** Absolute path of the bundle: import it with `pathToFileURL(file).href`. */
  file: string;
  /** Absolute paths of every source file that went into it. */
  inputs: string[];
}

const BUNDLE_PREFIX = "server-";
/** The synthesized entry's name in stack traces and the metafile (it is not a file on disk). */
const ENTRY_NAME = "partyhouse-entry.js";
/** Files of earlier runs older than this are removed when a builder starts. */
const STALE_AFTER_MS = 60 * 60 * 1000;

/** Lets bundled CommonJS `require()` node builtins from inside an ES module. */
const REQUIRE_BANNER =
  'import { createRequire as __partyhouseCreateRequire } from "node:module";\n' +
  "const require = __partyhouseCreateRequire(import.meta.url);";

/**
 * Modules injected into user code: `Response` (web-globals), the workerd globals, and the
 * `.env` values for `process.env` (dotenv-env).
 */
const INJECTED = (() => {
  const here = fileURLToPath(import.meta.url);
  const extension = here.endsWith(".ts") ? ".ts" : ".js";
  return ["web-globals", "workerd-globals", "dotenv-env"].map((name) => join(dirname(here), name + extension));
})();

export function serverBuildOptions(config: ResolvedConfig, options: BundleOptions): BuildOptions {
  return {
    stdin: {
      contents: synthesizeEntry(config),
      resolveDir: config.root,
      sourcefile: ENTRY_NAME,
      loader: "js",
    },
    absWorkingDir: config.root,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // A package's PartyKit-specific build wins; otherwise the node one (we run on Node, not workerd).
    conditions: ["partykit"],
    banner: { js: REQUIRE_BANNER },
    inject: INJECTED,
    define: serverDefines(config, options.host),
    alias: config.build?.alias ?? {},
    loader: { ".wasm": "binary", ".bin": "binary" },
    plugins: [partyTypesPlugin(), binaryModulesPlugin(), singletonPackagesPlugin(config.root)],
    // Inline, so each build is one self-contained file that can be deleted once imported.
    sourcemap: "inline",
    minify: config.minify,
    outfile: join(options.outdir, "server.mjs"),
    write: false,
    metafile: true,
    logLevel: "silent",
  };
}

export interface ServerBuilder {
  build(): Promise<BundleResult>;
  dispose(): Promise<void>;
}

export async function createServerBuilder(config: ResolvedConfig, options: BundleOptions): Promise<ServerBuilder> {
  const outdir = resolve(options.outdir);
  await mkdir(outdir, { recursive: true });
  await removeStaleBundles(outdir);
  const ctx: BuildContext = await context(serverBuildOptions(config, { ...options, outdir }));
  const written: string[] = [];
  let counter = 0;

  return {
    async build() {
      if (config.build) await runBuildCommand(config.build);
      let result;
      try {
        result = await ctx.rebuild();
      } catch (error) {
        throw await toBuildError(error);
      }
      const output = result.outputFiles?.find((file) => file.path.endsWith(".mjs"));
      if (!output) throw new BuildError("esbuild produced no server bundle");
      const name = `${BUNDLE_PREFIX}${Date.now().toString(36)}-${process.pid}-${counter++}.mjs`;
      const file = join(outdir, name);
      await writeFile(file, output.contents);
      written.push(file);
      // Keep this build and the previous one (it may still be loading); drop older ones.
      while (written.length > 2) await rm(written.shift() as string, { force: true });
      return { file, inputs: inputsOf(config.root, result.metafile?.inputs ?? {}) };
    },
    async dispose() {
      await ctx.dispose();
    },
  };
}

/** Metafile inputs are relative to the working dir; plugin namespaces (`ns:path`) are not files. */
function inputsOf(root: string, inputs: Record<string, unknown>): string[] {
  return Object.keys(inputs)
    .filter((key) => key !== ENTRY_NAME && (!/^[a-z][a-z0-9-]*:/i.test(key) || isAbsolute(key)))
    .map((key) => resolve(root, key))
    .sort();
}

async function removeStaleBundles(outdir: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(outdir)) {
    if (!name.startsWith(BUNDLE_PREFIX) || !name.endsWith(".mjs")) continue;
    const path = join(outdir, name);
    try {
      // A bundle of a process that is gone (a replaced dev child) is nobody's; old ones neither.
      const writer = writerPidOf(name);
      const orphaned = writer !== undefined && writer !== process.pid && !isAlive(writer);
      if (orphaned || now - (await stat(path)).mtimeMs > STALE_AFTER_MS) await rm(path, { force: true });
    } catch {
      // Removed by another process meanwhile: nothing to do.
    }
  }
}

/** `server-<time>-<pid>-<n>.mjs` → pid. */
function writerPidOf(name: string): number | undefined {
  const pid = Number(name.split("-")[2]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, just not ours to signal.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
