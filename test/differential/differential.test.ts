// The differential check as a node:test suite: runs every probe against `partykit dev` and
// `partyhouse dev` and fails on any difference spec section 10 does not ask for. It needs a
// partykit install (PARTYKIT_DIR=/tmp/partykit-ref, see README.md); without one it is skipped.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { textReport } from "./compare.js";
import { runDifferential } from "./differential.js";
import { findPartykitBin, partyhouseBuilt } from "./servers.js";

const partykitDir = process.env.PARTYKIT_DIR;
const partykitBin = findPartykitBin(partykitDir);
const skip = !partykitDir
  ? "PARTYKIT_DIR is not set (install partykit@0.0.115 in a scratch folder and point PARTYKIT_DIR at it)"
  : !partykitBin
    ? `no partykit binary under ${partykitDir}/node_modules/partykit`
    : !partyhouseBuilt()
      ? "partyhouse is not built (npm run build)"
      : false;

describe("differential check against partykit dev", { skip }, () => {
  it("answers every probe as partykit dev does, except where spec section 10 asks for better", { timeout: 600_000 }, async () => {
    const rows = await runDifferential({ partykitBin: partykitBin! });
    const differing = rows.filter((row) => row.verdict === "DIFFERS");
    assert.equal(differing.length, 0, textReport(rows));
  });
});
