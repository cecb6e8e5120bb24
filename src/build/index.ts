export { bundleProject } from "./bundle.js";
export { watchProject } from "./watch.js";
export type { ProjectWatcher, WatchEvent, WatchOptions } from "./watch.js";
export { createServerBuilder, serverBuildOptions } from "./server-builder.js";
export type { BundleOptions, BundleResult, ServerBuilder } from "./server-builder.js";
export { BuildError } from "./errors.js";
export { serverDefines, clientDefines } from "./defines.js";
export { synthesizeEntry, partyModules } from "./entry.js";
