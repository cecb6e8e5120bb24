/**
 * `serve.build`: the browser bundle served from the static folder, with `PARTYKIT_HOST`
 * defined. Built once before the server starts; in dev, esbuild's own watch rebuilds it.
 */
import { context, type BuildOptions, type Plugin } from "esbuild";
import type { ResolvedClientBuild, ResolvedConfig } from "../config/types.js";
import { clientDefines } from "./defines.js";
import { toBuildError } from "./errors.js";

export interface ClientBuildOptions {
  /** `PARTYKIT_HOST` for the browser code. */
  host: string;
  /** Keep rebuilding on change (dev). */
  watch: boolean;
  /** A rebuild in watch mode failed (the first build's failure is thrown instead). */
  onError?(error: unknown): void;
  onBuild?(): void;
}

export interface ClientBuild {
  close(): Promise<void>;
}

export function clientBuildOptions(config: ResolvedConfig, build: ResolvedClientBuild, host: string): BuildOptions {
  return {
    entryPoints: build.entry,
    absWorkingDir: config.root,
    outdir: build.outdir,
    bundle: build.bundle,
    splitting: build.splitting,
    format: build.format,
    minify: build.minify,
    sourcemap: build.sourcemap,
    platform: "browser",
    define: clientDefines(config, host, build.define),
    external: build.external,
    alias: build.alias,
    loader: build.loader,
    logLevel: "silent",
  };
}

export async function startClientBuild(
  config: ResolvedConfig,
  build: ResolvedClientBuild,
  options: ClientBuildOptions,
): Promise<ClientBuild> {
  let first = true;
  const report: Plugin = {
    name: "partyhouse-client-report",
    setup(esbuild) {
      esbuild.onEnd(async (result) => {
        if (first) return; // the first build's outcome is returned or thrown below
        if (result.errors.length > 0) options.onError?.(await toBuildError({ errors: result.errors }));
        else options.onBuild?.();
      });
    },
  };
  const ctx = await context({ ...clientBuildOptions(config, build, options.host), plugins: [report] });
  try {
    await ctx.rebuild();
  } catch (error) {
    const buildError = await toBuildError(error);
    // `start` cannot serve a client that does not build. `dev` shows the error and watches
    // for the fix, as it does for the server's own build.
    if (!options.watch) {
      await ctx.dispose();
      throw buildError;
    }
    options.onError?.(buildError);
  }
  first = false;
  if (!options.watch) {
    await ctx.dispose();
    return { close: async () => undefined };
  }
  await ctx.watch();
  return { close: () => ctx.dispose() };
}
