/** Runs `build.command` (a user's own pre-build step, e.g. codegen) through the shell. */
import { spawn } from "node:child_process";
import type { ResolvedCustomBuild } from "../config/types.js";
import { BuildError } from "./errors.js";

export function runBuildCommand(build: ResolvedCustomBuild): Promise<void> {
  const command = build.command;
  if (command === undefined) return Promise.resolve();
  return new Promise((resolve, reject) => {
    // Its output goes to our stderr: stdout is reserved for the CLI's own lines.
    const child = spawn(command, { cwd: build.cwd, shell: true, stdio: ["ignore", process.stderr, process.stderr] });
    child.on("error", (error) => reject(new BuildError(`build.command could not start: ${error.message}`)));
    child.on("exit", (code, signal) => {
      if (code === 0) resolve();
      else reject(new BuildError(`build.command failed (${signal ?? `exit code ${code}`}): ${command}`));
    });
  });
}
