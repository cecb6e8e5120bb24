/** `--var K=V` and `--define K=V` handling. */
import { ConfigError } from "./errors.js";

/** Splits `KEY=VALUE` at the first `=`; the flag name goes into the error message. */
export function splitKeyValue(input: string, flag: string): [string, string] {
  const at = input.indexOf("=");
  if (at <= 0) throw new ConfigError(`${flag} expects KEY=VALUE, got "${input}"`);
  return [input.slice(0, at), input.slice(at + 1)];
}
