/**
 * The esbuild `define` table of the server bundle (spec 1.9): the `.env` values for the
 * bundle's `process.env` (src/build/dotenv-env.ts), with `--with-env` each `.env` key as a
 * global constant too, `PARTYKIT_HOST`, `PARTYKIT_API_BASE`, then the config's `define` and
 * `--define` on top, so a user can always override what partyhouse derives.
 */
import type { ResolvedConfig } from "../config/types.js";

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Where PartyKit's own API lives; code that calls it (AI, vectorize) expects this constant. */
export const DEFAULT_API_BASE = "https://api.partykit.dev";

export function serverDefines(config: ResolvedConfig, host: string): Record<string, string> {
  // Copied into process.env at load, not replaced per key: `process.env[name]` must see them too.
  // A JSON string (esbuild 0.28 never finishes with an object define used in an inject file).
  const defines: Record<string, string> = { __PARTYHOUSE_DOTENV__: JSON.stringify(JSON.stringify(config.dotenv)) };
  if (config.withEnv) {
    for (const [key, value] of Object.entries(config.dotenv)) {
      // esbuild only accepts identifiers; other keys are still in process.env and room.env.
      if (IDENTIFIER.test(key)) defines[key] = JSON.stringify(value);
    }
  }
  defines.PARTYKIT_HOST = JSON.stringify(host);
  defines.PARTYKIT_API_BASE = JSON.stringify(process.env.PARTYKIT_API_BASE ?? DEFAULT_API_BASE);
  return { ...defines, ...config.define };
}

/** The client bundle gets the host (and a user's PARTYKIT_HOST override), never `.env` secrets. */
export function clientDefines(config: ResolvedConfig, host: string, own: Record<string, string>): Record<string, string> {
  const defines: Record<string, string> = { PARTYKIT_HOST: JSON.stringify(host) };
  if (config.define.PARTYKIT_HOST !== undefined) defines.PARTYKIT_HOST = config.define.PARTYKIT_HOST;
  return { ...defines, ...own };
}
