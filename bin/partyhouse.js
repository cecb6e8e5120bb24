#!/usr/bin/env node
// The `partyhouse` command. The code lives in dist/ (compiled by `npm run build`).
const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  // Node 20 is end-of-life, and the SQLite driver crashes on it: say so instead.
  process.stderr.write(`partyhouse: needs Node.js 22, 24 or 26; this is ${process.version}\n`);
  process.exit(1);
}
let cli;
try {
  cli = await import("../dist/cli/main.js");
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || !String(error.message).includes("dist/cli/main.js")) throw error;
  process.stderr.write("partyhouse: not built yet (run `npm run build` in the partyhouse package)\n");
  process.exit(1);
}
// `start` re-executes itself once with memory settings that only apply at start-up
// (src/cli/server-flags.ts); other commands run as they are.
cli.relaunchWithServerFlags(process.argv.slice(2), process.argv[1]);
const code = await cli.main(process.argv.slice(2));
// Exit once both streams have flushed: a piped stdout may still hold the last lines.
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
