/**
 * The one module esbuild bundles for the server: it re-exports every party's default export
 * under the party's name. One bundle means module-level state is shared between parties, as
 * on PartyKit where every party lands in one script.
 */
import type { ResolvedConfig } from "../config/types.js";

/** Party name to absolute module path, `main` first. */
export function partyModules(config: ResolvedConfig): Record<string, string> {
  return { main: config.main, ...config.parties };
}

export function synthesizeEntry(config: ResolvedConfig): string {
  // String export names (ES2022) because party names may contain "-".
  return Object.entries(partyModules(config))
    .map(([name, path]) => `export { default as ${JSON.stringify(name)} } from ${JSON.stringify(path)};`)
    .join("\n");
}
