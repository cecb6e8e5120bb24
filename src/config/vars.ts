/** `--var K=V` and `--define K=V` handling, and the JSON typing of var values. */
import { ConfigError } from "./errors.js";

/** Splits `KEY=VALUE` at the first `=`; the flag name goes into the error message. */
export function splitKeyValue(input: string, flag: string): [string, string] {
  const at = input.indexOf("=");
  if (at <= 0) throw new ConfigError(`${flag} expects KEY=VALUE, got "${input}"`);
  return [input.slice(0, at), input.slice(at + 1)];
}

/** A `--var` value keeps its JSON type when it parses as JSON (`5`, `true`, `{"a":1}`); else a string. */
export function parseVarValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
