/** esbuild plugins that give user code what the PartyKit build pipeline gives it (spec 2.3). */
import { dirname } from "node:path";
import type { Plugin } from "esbuild";

const TYPES_NAMESPACE = "partyhouse-types";
const BINARY_NAMESPACE = "partyhouse-binary";

/**
 * `partykit/server` and `partyhouse/server` are types only. Resolving them to an empty module
 * lets projects build without the `partykit` package installed, whether they wrote
 * `import type` or a plain `import * as Party`.
 */
export function partyTypesPlugin(): Plugin {
  return {
    name: "partyhouse-party-types",
    setup(build) {
      build.onResolve({ filter: /^(partykit|partyhouse)\/server$/ }, (args) => ({
        path: args.path,
        namespace: TYPES_NAMESPACE,
      }));
      build.onLoad({ filter: /.*/, namespace: TYPES_NAMESPACE }, () => ({ contents: "export {};", loader: "js" }));
    },
  };
}

/**
 * Workers-style module types: `*.wasm` (and `*.wasm?module`) import as a compiled
 * `WebAssembly.Module`, `*.bin` as an `ArrayBuffer`. Each is a tiny wrapper module around the
 * file's bytes, which esbuild's `binary` loader inlines.
 */
export function binaryModulesPlugin(): Plugin {
  return {
    name: "partyhouse-binary-modules",
    setup(build) {
      build.onResolve({ filter: /\.(wasm|bin)(\?module)?$/ }, async (args) => {
        // The wrapper's own import of the bytes, or our nested resolve below: default handling.
        if (args.namespace === BINARY_NAMESPACE || args.pluginData === BINARY_NAMESPACE) return undefined;
        const resolved = await build.resolve(args.path.replace(/\?module$/, ""), {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: BINARY_NAMESPACE,
        });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        return { path: resolved.path, namespace: BINARY_NAMESPACE };
      });
      build.onLoad({ filter: /.*/, namespace: BINARY_NAMESPACE }, (args) => {
        const bytes = `import bytes from ${JSON.stringify(args.path)};\n`;
        const body = args.path.endsWith(".wasm")
          ? "export default new WebAssembly.Module(bytes);"
          : // A copy, so the ArrayBuffer holds exactly the file (never a shared Buffer pool).
            "export default bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);";
        return { contents: bytes + body, loader: "js", resolveDir: dirname(args.path) };
      });
    },
  };
}

const SINGLETON_RESOLVE = "partyhouse-singleton";

/**
 * Packages that break when two copies are bundled (Yjs checks `instanceof` across its types
 * and warns "Yjs was already imported"): every import of them resolves from the project root
 * first, so `partyhouse/yjs` and the project's own code share the project's copy even when
 * partyhouse is installed as a symlink (`npm install /path/to/partyhouse`) with its own
 * node_modules. A project without the package resolves it as usual.
 */
export function singletonPackagesPlugin(root: string, packages: readonly string[] = ["yjs"]): Plugin {
  const filter = new RegExp(`^(${packages.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})(/.*)?$`);
  return {
    name: "partyhouse-singleton-packages",
    setup(build) {
      build.onResolve({ filter }, async (args) => {
        if (args.pluginData === SINGLETON_RESOLVE) return undefined;
        const fromRoot = await build.resolve(args.path, { kind: args.kind, resolveDir: root, pluginData: SINGLETON_RESOLVE });
        return fromRoot.errors.length === 0 ? { path: fromRoot.path, sideEffects: fromRoot.sideEffects } : undefined;
      });
    },
  };
}
