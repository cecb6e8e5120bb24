// Absolute paths the bench needs, independent of the working directory it is started from.
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const partyFile = fileURLToPath(new URL("../party/server.ts", import.meta.url));
export const partyConfig = fileURLToPath(new URL("../party/partykit.json", import.meta.url));
export const resultsDir = fileURLToPath(new URL("../results/", import.meta.url));
