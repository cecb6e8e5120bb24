/**
 * Small type checks for config values. Each takes the dotted key path for the error message,
 * so every failure reads like `partykit.json: "serve.build.format" must be one of esm, cjs, iife`.
 */
import { ConfigError } from "./errors.js";

export type JsonObject = Record<string, unknown>;

export class Checker {
  constructor(readonly label: string) {}

  fail(path: string, expectation: string): never {
    throw new ConfigError(`${this.label}: "${path}" ${expectation}`);
  }

  isObject(value: unknown): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
  }

  object(value: unknown, path: string): JsonObject {
    if (!this.isObject(value)) this.fail(path, "must be an object");
    return value;
  }

  /** An object whose keys must all be in `allowed`: an unknown key is an error naming it. */
  strictObject(value: unknown, path: string, allowed: readonly string[]): JsonObject {
    const object = this.object(value, path);
    for (const key of Object.keys(object)) {
      if (!allowed.includes(key)) {
        throw new ConfigError(`${this.label}: unknown key "${path ? `${path}.${key}` : key}"`);
      }
    }
    return object;
  }

  /**
   * Like strictObject, but an unknown key only warns: PartyKit's schema strips unknown keys
   * inside `serve` instead of rejecting them, so files relying on that must keep working.
   */
  lenientObject(value: unknown, path: string, allowed: readonly string[], warnings: string[]): JsonObject {
    const object = this.object(value, path);
    for (const key of Object.keys(object)) {
      if (!allowed.includes(key)) warnings.push(`${this.label}: unknown key "${path}.${key}" is ignored`);
    }
    return object;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== "string") this.fail(path, "must be a string");
    return value;
  }

  boolean(value: unknown, path: string): boolean {
    if (typeof value !== "boolean") this.fail(path, "must be true or false");
    return value;
  }

  number(value: unknown, path: string): number {
    if (typeof value !== "number" || !Number.isFinite(value)) this.fail(path, "must be a number");
    return value;
  }

  port(value: unknown, path: string): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 65535) {
      this.fail(path, "must be a whole number from 0 to 65535");
    }
    return value;
  }

  nullableNumber(value: unknown, path: string): number | null {
    return value === null ? null : this.number(value, path);
  }

  oneOf<T extends string>(value: unknown, path: string, choices: readonly T[]): T {
    if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
      this.fail(path, `must be one of ${choices.join(", ")}`);
    }
    return value as T;
  }

  stringArray(value: unknown, path: string): string[] {
    if (!Array.isArray(value)) this.fail(path, "must be an array of strings");
    return value.map((item, i) => this.string(item, `${path}[${i}]`));
  }

  stringOrStringArray(value: unknown, path: string): string | string[] {
    return typeof value === "string" ? value : this.stringArray(value, path);
  }

  stringRecord(value: unknown, path: string): Record<string, string> {
    const object = this.object(value, path);
    const result: Record<string, string> = {};
    for (const [key, item] of Object.entries(object)) result[key] = this.string(item, `${path}.${key}`);
    return result;
  }
}
