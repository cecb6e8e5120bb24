/**
 * Reading `strace -f -y` traces for the durability tests (not a test file itself):
 * sqlite-engine-sync.test.ts (one process) and src/workers/durability.test.ts (several).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";

export const straceWorks = spawnSync("strace", ["-f", "-o", "/dev/null", "true"]).status === 0;

export interface TraceLine {
  readonly tid: number;
  readonly text: string;
}

export function readTrace(file: string): TraceLine[] {
  const lines: TraceLine[] = [];
  for (const raw of fs.readFileSync(file, "utf8").split("\n")) {
    const match = /^(\d+)\s+(.*)$/.exec(raw);
    if (match) lines.push({ tid: Number(match[1]), text: match[2]! });
  }
  return lines;
}

/** An fsync or fdatasync: the trace lines where it started and finished (strace may split it). */
export interface Sync {
  readonly start: number;
  readonly end: number;
  readonly tid: number;
  /** Of the WAL file (else of the database file or a folder). */
  readonly wal: boolean;
}

/** Collects syncs line by line, joining a call strace split into "unfinished" and "resumed". */
export class SyncCollector {
  readonly syncs: Sync[] = [];
  private readonly open = new Map<number, Sync>();

  /** True if the line is (part of) a sync, and so nothing else. */
  see({ tid, text }: TraceLine, index: number): boolean {
    const started = /^(fsync|fdatasync)\(\d+<([^>]*)>/.exec(text);
    if (started) {
      const sync = { start: index, end: index, tid, wal: started[2]!.endsWith("-wal") };
      if (text.includes("<unfinished ...>")) this.open.set(tid, sync);
      else this.syncs.push(sync);
      return true;
    }
    if (/^<\.\.\. (fsync|fdatasync) resumed>/.test(text)) {
      const sync = this.open.get(tid);
      if (sync) this.syncs.push({ ...sync, end: index });
      this.open.delete(tid);
      return true;
    }
    return false;
  }
}
