/**
 * Injected into every server bundle (esbuild `inject`): the bundle's free `process` is the
 * real one except for `env`, which is the host environment with the project's `.env` values
 * over it (baked in at build time, as PartyKit does). Dotted reads (`process.env.KEY`),
 * dynamic ones (`process.env[name]`, `Object.keys(process.env)`, SDKs reading their own keys)
 * and writes all see the same object; the host process's environment is not changed.
 */
/** The `.env` values as JSON text (src/build/defines.ts). */
declare const __PARTYHOUSE_DOTENV__: string;

const host = globalThis.process;
let env: NodeJS.ProcessEnv = { ...host.env, ...(JSON.parse(__PARTYHOUSE_DOTENV__) as Record<string, string>) };

const bundleProcess: NodeJS.Process = new Proxy(host, {
  get(target, key) {
    return key === "env" ? env : (Reflect.get(target, key, target) as unknown);
  },
  set(target, key, value) {
    if (key === "env") env = value as NodeJS.ProcessEnv;
    else Reflect.set(target, key, value, target);
    return true;
  },
});
export { bundleProcess as process };
