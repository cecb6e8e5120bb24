/**
 * `dev`'s rebuild loop: watch what the bundle read (plus `build.watch` folders), rebuild after
 * a debounce, one build at a time, and report each result or error. The caller decides what a
 * result means (the CLI reloads the server; a failed build keeps the old code running).
 */
import { resolve } from "node:path";
import type { ResolvedConfig } from "../config/types.js";
import { ChangeWatcher } from "./change-watcher.js";
import { partyModules } from "./entry.js";
import { BuildError } from "./errors.js";
import { createServerBuilder, type BundleOptions, type BundleResult } from "./server-builder.js";

export interface WatchOptions extends BundleOptions {
  /** A build already made (by bundleProject): watch its inputs instead of building again. */
  initial?: BundleResult;
  debounceMs?: number;
  /** Folders whose changes never count, e.g. the data folder (the outdir is always ignored). */
  ignore?: string[];
}

export type WatchEvent = BundleResult | Error;

export interface ProjectWatcher {
  close(): Promise<void>;
}

export async function watchProject(
  config: ResolvedConfig,
  options: WatchOptions,
  onBuild: (result: WatchEvent) => void,
): Promise<ProjectWatcher> {
  const builder = await createServerBuilder(config, options);
  const folders = config.build?.watch ?? [];
  const watcher = new ChangeWatcher({
    onChange: () => void rebuildSoon(),
    ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}),
    ignore: [options.outdir, ...(options.ignore ?? [])],
  });

  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  async function buildAndReport(): Promise<void> {
    try {
      const result = await builder.build();
      if (closed) return;
      await watcher.track(result.inputs, folders);
      onBuild(result);
    } catch (error) {
      if (closed) return;
      const pointedAt = error instanceof BuildError ? error.files.map((file) => resolve(config.root, file)) : [];
      await watcher.buildFailed([...pointedAt, ...Object.values(partyModules(config))]);
      onBuild(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Coalesces changes that arrive during a build into one more build after it. */
  async function rebuildSoon(): Promise<void> {
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        const changed = await watcher.takeChanges();
        if (changed.length > 0 && !closed) await buildAndReport();
      } while (again && !closed);
    })();
    try {
      await running;
    } finally {
      running = undefined;
    }
  }

  if (options.initial) await watcher.track(options.initial.inputs, folders);
  else await buildAndReport();

  return {
    async close() {
      closed = true;
      watcher.close();
      await running;
      await builder.dispose();
    },
  };
}
