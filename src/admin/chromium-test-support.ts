/**
 * The Chromium that browser tests drive: the system's (Debian's `chromium`, or CHROMIUM_PATH)
 * when there is one, else the build the `@sparticuz/chromium` dev dependency ships inside its
 * npm package, so `npm test` needs nothing but Node. `PARTYHOUSE_TEST_CHROMIUM=packaged` takes
 * the packaged one even where the system has its own.
 */
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LaunchOptions } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"];

/** What to pass to playwright's `chromium.launch()`. */
export async function chromiumLaunchOptions(): Promise<LaunchOptions> {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (existsSync(fromEnv)) return { executablePath: fromEnv, args: ["--no-sandbox"] };
    throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
  }
  const system = process.env.PARTYHOUSE_TEST_CHROMIUM === "packaged" ? undefined : CANDIDATES.find((path) => existsSync(path));
  return system ? { executablePath: system, args: ["--no-sandbox"] } : packagedChromiumLaunchOptions();
}

/**
 * The packaged build, unpacked into the temp folder on first use (`/tmp/chromium`, about 200 MB,
 * reused after). It links NSS, NSPR and expat, which a bare machine lacks: the package ships
 * them beside it (for Amazon Linux), and the browser gets them through LD_LIBRARY_PATH.
 */
export async function packagedChromiumLaunchOptions(): Promise<LaunchOptions> {
  const { default: Chromium, inflate } = await import("@sparticuz/chromium");
  // No WebGL in these tests: skips unpacking SwiftShader.
  Chromium.setGraphicsMode = false;
  const executablePath = await Chromium.executablePath();
  const bin = new URL("../bin/", import.meta.resolve("@sparticuz/chromium"));
  const libraries = join(await inflate(fileURLToPath(new URL("al2023.tar.br", bin))), "lib");
  const inherited = process.env.LD_LIBRARY_PATH;
  return {
    executablePath,
    args: ["--no-sandbox"],
    env: {
      ...process.env,
      LD_LIBRARY_PATH: inherited ? `${libraries}:${inherited}` : libraries,
      FONTCONFIG_PATH: join(tmpdir(), "fonts"),
    },
  };
}
