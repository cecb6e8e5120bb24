/** One-shot build of the server bundle (what `start` uses, and `dev` for its first build). */
import { stop } from "esbuild";
import type { ResolvedConfig } from "../config/types.js";
import { createServerBuilder, type BundleOptions, type BundleResult } from "./server-builder.js";

export async function bundleProject(config: ResolvedConfig, options: BundleOptions): Promise<BundleResult> {
  const builder = await createServerBuilder(config, options);
  try {
    return await builder.build();
  } finally {
    await builder.dispose();
  }
}

/**
 * esbuild keeps its service process (~38 MB of RSS) alive for later builds, until this process
 * exits. `start` builds once, so it lets that process go once its builds are done; a later build
 * (a `--workers` reload) starts one again.
 */
export function releaseBuildService(): Promise<void> {
  return stop();
}
