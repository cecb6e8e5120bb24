// How long the disk takes to make a small write durable right now: partyhouse answers a durable
// put only after a WAL fdatasync, so its put rate follows this latency (bare's in-memory floor
// does not). Measured the way the engine syncs: a 4 KiB write, then fs.fdatasync on libuv's
// threadpool, timed from the call to the callback on this thread (so the two thread hand-offs a
// commit pays are in it too).
import { closeSync, fdatasync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { quantile } from "./stats.js";

export interface DiskSyncLatency {
  samples: number;
  p50Us: number;
  p90Us: number;
}

export async function measureDiskSync(dir: string, samples = 200): Promise<DiskSyncLatency> {
  const file = join(dir, `disk-sync-probe-${process.pid}`);
  const fd = openSync(file, "w+");
  const page = Buffer.alloc(4096, 1);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      writeSync(fd, page, 0, page.length, (i % 64) * page.length);
      const started = process.hrtime.bigint();
      await new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
      latencies.push(Number(process.hrtime.bigint() - started) / 1000);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  return { samples, p50Us: quantile(latencies, 0.5), p90Us: quantile(latencies, 0.9) };
}
