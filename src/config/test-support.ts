/**
 * Helpers for tests (not a test file itself): throwaway projects (files given by relative path)
 * in fresh temp folders, so config, build and CLI tests run against real files.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after } from "node:test";

export interface TempProject {
  dir: string;
  write(files: Record<string, string>): Promise<void>;
  remove(): Promise<void>;
}

async function createTempProject(files: Record<string, string> = {}): Promise<TempProject> {
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

/**
 * For one test file, called at its top level: creates temp projects and removes them all after
 * the file's tests.
 */
export function tempProjects(): (files?: Record<string, string>) => Promise<TempProject> {
  const created: TempProject[] = [];
  after(() => Promise.all(created.map((project) => project.remove())));
  return async (files) => {
    const project = await createTempProject(files);
    created.push(project);
    return project;
  };
}
