/**
 * `workers` / `--workers <n|auto>`: how many worker processes `partyhouse start` runs
 * (src/workers). 1, the default, is the single process of before; "auto" is the cores Node
 * says this process may use.
 */
import { availableParallelism } from "node:os";
import type { Checker } from "./check.js";

/** More would only add processes that compete for the same cores and SQLite's write lock. */
export const MAX_WORKERS = 64;

export function validateWorkers(check: Checker, value: unknown): number | "auto" {
  if (value === "auto") return "auto";
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_WORKERS) {
    return check.fail("workers", `must be "auto" or a whole number from 1 to ${MAX_WORKERS}`);
  }
  return value;
}

/** The number of workers to run: "auto" becomes the available cores (at most MAX_WORKERS). */
export function resolveWorkers(value: number | "auto" | undefined): number {
  if (value === undefined) return 1;
  return value === "auto" ? Math.min(MAX_WORKERS, availableParallelism()) : value;
}
