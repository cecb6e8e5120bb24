/**
 * Test support: writes a throwaway project (files given by relative path) into a fresh temp
 * folder, so config, build and CLI tests run against real files.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface TempProject {
  dir: string;
  write(files: Record<string, string>): Promise<void>;
  remove(): Promise<void>;
}

export async function createTempProject(files: Record<string, string> = {}): Promise<TempProject> {
  const dir = await mkdtemp(join(tmpdir(), "partyhouse-"));
  const project: TempProject = {
    dir,
    async write(more) {
      for (const [path, content] of Object.entries(more)) {
        const full = join(dir, path);
        await mkdir(dirname(full), { recursive: true });
        await writeFile(full, content);
      }
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
  await project.write(files);
  return project;
}
