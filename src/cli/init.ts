/**
 * `partyhouse init [dir]`: writes a new project that runs with `npx partyhouse dev` and whose
 * test passes. Never overwrites: an existing file of the template is an error naming it.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CliContext } from "./context.js";
import { templateFiles } from "./init-template.js";

export class InitError extends Error {
  override name = "InitError";
}

/** A package name from the folder name: lowercase letters, digits and dashes. */
export function projectName(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return name || "partyhouse-app";
}

/**
 * partyhouse is not on the npm registry yet, so the new project depends on the copy that
 * created it (a `file:` path); once published this becomes a version range.
 */
function partyhouseSpec(): string {
  return `file:${fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "")}`;
}

export async function runInit(dir: string | undefined, cli: CliContext): Promise<number> {
  const target = resolve(cli.cwd, dir ?? ".");
  const files = templateFiles(projectName(target), partyhouseSpec());
  const clash = Object.keys(files).find((file) => existsSync(join(target, file)));
  if (clash !== undefined) throw new InitError(`${join(target, clash)} already exists; init writes into a new or empty folder`);
  for (const [file, content] of Object.entries(files)) {
    const path = join(target, file);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content, { flag: "wx" });
  }
  const where = relative(cli.cwd, target) || ".";
  cli.writeOut(
    `Created a partyhouse project in ${where}:\n` +
      Object.keys(files).map((file) => `  ${file}\n`).join("") +
      `\nNext:\n${where === "." ? "" : `  cd ${where}\n`}  npm install\n  npx partyhouse dev     # then open http://127.0.0.1:1999\n  npm test\n`,
  );
  return 0;
}
