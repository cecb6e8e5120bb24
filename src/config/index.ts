export { loadConfig, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_PERSIST_FOLDER } from "./load.js";
export type { ConfigOverrides, LoadConfigOptions } from "./load.js";
export { ConfigError } from "./errors.js";
export { parseDotenv } from "./dotenv.js";
export { splitKeyValue } from "./vars.js";
export { findConfig, CONFIG_FILE_NAMES } from "./discover.js";
export { validateConfig, CLOUDFLARE_ONLY_KEYS, PARTY_NAME } from "./validate.js";
export type * from "./types.js";
