/**
 * A problem with the user's project configuration. The CLI prints `message` as the one line it
 * shows, so messages name the file (or flag) and the key, and never need a stack to understand.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}
