/**
 * The note that the config sets keys only PartyKit/Cloudflare reads (`compatibilityDate`,
 * `ai`, …). Nearly every PartyKit project sets `compatibilityDate` and there is nothing to fix,
 * so it is one info line, said once per process; a dev child that replaces the previous one
 * (dev-supervisor.ts) does not say it again either, as it does not repeat the ready line.
 */
import type { Logger } from "../runtime/logger.js";
import { devChildRestarts } from "./dev-supervisor.js";

let noted = false;

export function noteIgnoredKeys(keys: readonly string[], logger: Logger): void {
  if (noted || keys.length === 0 || (devChildRestarts() ?? 0) > 0) return;
  noted = true;
  logger.log("info", `ignoring Cloudflare-only config keys: ${keys.join(", ")} (they only apply when deploying to PartyKit)`);
}
