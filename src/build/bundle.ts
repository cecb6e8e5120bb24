/** One-shot build of the server bundle (what `start` uses, and `dev` for its first build). */
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
