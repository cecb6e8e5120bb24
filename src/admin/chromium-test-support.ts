/**
 * Finds the system's Chromium for browser tests (Debian's `chromium` package). Tests that need
 * it fail with this message when it is missing: they never pass without having run.
 */
import { existsSync } from "node:fs";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"];

export function findChromium(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (existsSync(fromEnv)) return fromEnv;
    throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
  }
  const found = CANDIDATES.find((path) => existsSync(path));
  if (found) return found;
  throw new Error(
    "no Chromium found for the inspector's browser test (looked at CHROMIUM_PATH and " +
      CANDIDATES.join(", ") +
      "). Install it with: apt-get update && apt-get install -y chromium",
  );
}
