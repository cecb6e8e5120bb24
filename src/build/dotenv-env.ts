/**
 * Injected into every server bundle (esbuild `inject`): copies the project's `.env` values
 * (baked in at build time, as PartyKit's inject-process does) into `process.env`, so every way
 * of reading it agrees: `process.env.KEY`, `process.env[name]`, `Object.keys(process.env)`, and
 * SDKs that read `globalThis.process.env` themselves (openai does). As with dotenv, a variable
 * the host environment already sets (a container's `-e`) is kept.
 */

/** The `.env` values as JSON text (src/build/defines.ts). */
declare const __PARTYHOUSE_DOTENV__: string;

const env = globalThis.process.env;
for (const [key, value] of Object.entries(JSON.parse(__PARTYHOUSE_DOTENV__) as Record<string, string>)) {
  if (env[key] === undefined) env[key] = value;
}

export {};
