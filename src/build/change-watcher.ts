/**
 * Watches the files a build read (through their folders, so editors that save by renaming are
 * seen) and extra folders recursively. A change counts only when the file's content differs
 * from the last build's: touching a file, or a build command rewriting the same output, does
 * not trigger a rebuild (and so cannot loop).
 */
import { createHash } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, sep } from "node:path";

export interface ChangeWatcherOptions {
  /** Called once per burst of changes, after `debounceMs` of quiet. */
  onChange(paths: string[]): void;
  debounceMs?: number;
  /** Folders whose contents never count (build output, data, node_modules). */
  ignore?: string[];
}

export class ChangeWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly fingerprints = new Map<string, string>();
  private inputs = new Set<string>();
  private folders: string[] = [];
  /** After a failed build the inputs are unknown: any new file in a watched folder may fix it. */
  private acceptUnknownFiles = false;
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: ChangeWatcherOptions) {}

  /** Starts watching what the last successful build read, plus `folders` recursively. */
  async track(inputs: string[], folders: string[]): Promise<void> {
    this.acceptUnknownFiles = false;
    this.inputs = new Set(inputs.filter((path) => !this.isIgnored(path)));
    this.folders = folders;
    // Known files keep the fingerprint takeChanges recorded before the build: an edit made
    // while it ran must still count. Pending paths are judged by takeChanges.
    const unseen = [...this.inputs].filter((path) => !this.fingerprints.has(path) && !this.pending.has(path));
    await Promise.all(unseen.map(async (path) => this.fingerprints.set(path, await fingerprint(path))));
    const wanted = new Map<string, boolean>();
    for (const path of this.inputs) wanted.set(dirname(path), false);
    for (const folder of folders) wanted.set(folder, true);
    for (const [folder, watcher] of this.watchers) {
      if (!wanted.has(folder)) {
        watcher.close();
        this.watchers.delete(folder);
      }
    }
    for (const [folder, recursive] of wanted) this.watchFolder(folder, recursive);
  }

  /**
   * Keeps the last inputs watched and also reacts to files that were not inputs. `suspects`
   * (the files the errors point at, the party modules) are watched too: after a failed first
   * build they are all there is to watch.
   */
  async buildFailed(suspects: string[]): Promise<void> {
    this.acceptUnknownFiles = true;
    const fresh = suspects.filter((path) => !this.inputs.has(path) && !this.isIgnored(path));
    for (const path of fresh) this.inputs.add(path);
    const unseen = fresh.filter((path) => !this.fingerprints.has(path) && !this.pending.has(path));
    await Promise.all(unseen.map(async (path) => this.fingerprints.set(path, await fingerprint(path))));
    for (const path of fresh) this.watchFolder(dirname(path), false);
  }

  /** Records the current content of every pending path; returns the ones that really changed. */
  async takeChanges(): Promise<string[]> {
    const paths = [...this.pending];
    this.pending.clear();
    const changed: string[] = [];
    for (const path of paths) {
      const now = await fingerprint(path);
      if (this.fingerprints.get(path) !== now) changed.push(path);
      this.fingerprints.set(path, now);
    }
    return changed;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  private watchFolder(folder: string, recursive: boolean): void {
    if (this.watchers.has(folder)) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(folder, { recursive, persistent: false }, (_event, name) => {
        if (name !== null) this.noticed(join(folder, name.toString()), recursive);
      });
    } catch {
      return; // A folder that does not exist (yet) has nothing to report.
    }
    watcher.on("error", () => {
      watcher.close();
      this.watchers.delete(folder);
    });
    this.watchers.set(folder, watcher);
  }

  private noticed(path: string, inWatchedFolder: boolean): void {
    if (this.closed || this.isIgnored(path)) return;
    const relevant =
      this.inputs.has(path) ||
      (!isHidden(path) && (inWatchedFolder || this.isInFolders(path) || this.acceptUnknownFiles));
    if (!relevant) return;
    this.pending.add(path);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.options.onChange([...this.pending]), this.options.debounceMs ?? 50);
  }

  private isInFolders(path: string): boolean {
    return this.folders.some((folder) => path.startsWith(folder + sep));
  }

  private isIgnored(path: string): boolean {
    if (path.split(sep).includes("node_modules") || path.split(sep).includes(".git")) return true;
    return (this.options.ignore ?? []).some((folder) => path === folder || path.startsWith(folder + sep));
  }
}

function isHidden(path: string): boolean {
  const name = path.slice(path.lastIndexOf(sep) + 1);
  return name.startsWith(".") || name.endsWith("~");
}

async function fingerprint(path: string): Promise<string> {
  try {
    return createHash("sha1").update(await readFile(path)).digest("hex");
  } catch {
    return "missing";
  }
}
