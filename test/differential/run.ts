// Differential check: the same probes against `partykit dev` and `partyhouse dev`.
//   node --import tsx test/differential/run.ts [--partykit-dir /tmp/partykit-ref] [--markdown] [filter...]
// See test/differential/README.md.
import { markdownReport, textReport } from "./compare.js";
import { runDifferential } from "./differential.js";
import { findPartykitBin, partyhouseBuilt } from "./servers.js";

const args = process.argv.slice(2);
let partykitDir = process.env.PARTYKIT_DIR ?? "/tmp/partykit-ref";
let markdown = false;
const filters: string[] = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!;
  if (arg === "--partykit-dir") partykitDir = args[++i] ?? "";
  else if (arg === "--markdown") markdown = true;
  else if (arg === "--help" || arg === "-h") {
    console.log("usage: node --import tsx test/differential/run.ts [--partykit-dir <dir>] [--markdown] [filter...]");
    process.exit(0);
  } else filters.push(arg);
}

const partykitBin = findPartykitBin(partykitDir);
if (!partykitBin) {
  console.error(`no partykit in ${partykitDir}/node_modules (install it there: npm install partykit@0.0.115)`);
  process.exit(2);
}
if (!partyhouseBuilt()) {
  console.error("partyhouse is not built: run `npm run build` first");
  process.exit(2);
}

const rows = await runDifferential({ partykitBin, filters, log: (line) => console.error(line) });
console.log(markdown ? markdownReport(rows) : textReport(rows));
process.exitCode = rows.some((r) => r.verdict === "DIFFERS") ? 1 : 0;
