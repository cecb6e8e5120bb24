/**
 * Entry of the `partyhouse` bin: parse, dispatch to a command, report a failure to start as
 * one line on stderr with a non-zero exit code, and stop cleanly on SIGINT/SIGTERM.
 */
import { readFileSync } from "node:fs";
import { parseCli } from "./args.js";
import type { CliContext } from "./context.js";
import { describeStartupError, exitCodeFor } from "./errors.js";
import { isDevChild, superviseDev } from "./dev-supervisor.js";
import { DATA_HELP, DEV_HELP, START_HELP, TOP_HELP } from "./help.js";
import { onShutdownSignal } from "./shutdown.js";

export { relaunchWithServerFlags } from "./server-flags.js";

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/**
 * Runs a command. Resolves with an exit code for commands that end by themselves (help, a
 * failed start); a server that started resolves only after a shutdown signal closed it.
 */
export async function main(argv: readonly string[], cli: CliContext = defaultContext()): Promise<number> {
  let stop: () => Promise<void>;
  try {
    const command = parseCli(argv);
    if (command.kind === "version") {
      cli.writeOut(`${version()}\n`);
      return 0;
    }
    if (command.kind === "help") {
      cli.writeOut(command.topic === "dev" ? DEV_HELP : command.topic === "start" ? START_HELP : command.topic === "data" ? DATA_HELP : TOP_HELP);
      return 0;
    }
    if (command.kind === "init") return await (await import("./init.js")).runInit(command.dir, cli);
    if (command.kind === "data") return await (await import("./data.js")).runData(command, cli);
    // dev serves from a child process that can be replaced (see dev-supervisor.ts).
    if (command.mode === "dev" && !isDevChild()) return await superviseDev(argv, cli);
    // Stack traces from the bundle point into the user's TypeScript, not the bundle.
    process.setSourceMapsEnabled(true);
    // Loaded on demand: help and usage errors stay fast and need no server code.
    const run = command.mode === "dev" ? (await import("./dev.js")).runDev : (await import("./start.js")).runStart;
    stop = await run(command, { ...cli, argv });
  } catch (error) {
    cli.writeErr(`partyhouse: ${describeStartupError(error)}\n`);
    return exitCodeFor(error);
  }
  return new Promise<number>((resolve) => onShutdownSignal(() => stop(), resolve));
}

function defaultContext(): CliContext {
  return {
    cwd: process.cwd(),
    writeOut: (text) => process.stdout.write(text),
    writeErr: (text) => process.stderr.write(text),
  };
}
