/**
 * Keeping static files inside the served folder when the folder contains symlinks. The path
 * checks in asset-path.ts look at names only; a symlink named `docs` pointing at `/etc` passes
 * them. So the file's real path (every symlink resolved) must lie under the root's real path.
 * A symlink inside the folder that points inside it stays servable.
 */
import { realpath } from "node:fs/promises";
import { sep } from "node:path";

export class RealRoot {
  private real: Promise<string | null> | undefined;

  constructor(private readonly root: string) {}

  /**
   * The real path of `file` if it exists and lies under the real root; null otherwise (missing
   * files included, so a miss and a refusal look the same to a client).
   */
  async confine(file: string): Promise<string | null> {
    const root = await this.realRoot();
    if (root === null) return null;
    let real: string;
    try {
      real = await realpath(file);
    } catch {
      return null;
    }
    const prefix = root.endsWith(sep) ? root : root + sep;
    return real.startsWith(prefix) ? real : null;
  }

  /** Resolved once; a root that does not exist yet is looked up again next time. */
  private realRoot(): Promise<string | null> {
    this.real ??= realpath(this.root).catch(() => {
      this.real = undefined;
      return null;
    });
    return this.real;
  }
}
