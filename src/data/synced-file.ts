/**
 * A file written with a data sync after every 32 MiB, so the kernel never holds much of it
 * dirty. A backup's download and export write gigabytes; left dirty, they push the machine
 * past its dirty-page limits, and a server on the same disk pays: the kernel throttles its
 * writes, its event loop included. Syncing as they go keeps them out of its way. (Only for
 * files written once, front to back: syncing a file whose pages are rewritten, like a SQLite
 * database, makes each rewrite wait for the page's write-back; measured, 1.6 s.)
 */
import fs from "node:fs";
import { Writable } from "node:stream";

export const SYNC_EVERY_BYTES = 32 * 1024 * 1024;

export class SyncedFileWriter extends Writable {
  private readonly fd: number;
  private unsynced = 0;

  constructor(
    file: string,
    private readonly every = SYNC_EVERY_BYTES,
  ) {
    super({ highWaterMark: 1024 * 1024 });
    this.fd = fs.openSync(file, "w", 0o600);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.writeAll(chunk, 0, (error) => {
      if (error) return done(error);
      this.unsynced += chunk.byteLength;
      if (this.unsynced < this.every) return done();
      this.unsynced = 0;
      fs.fdatasync(this.fd, done);
    });
  }

  /** Everything is on disk when the stream finishes. */
  override _final(done: (error?: Error | null) => void): void {
    fs.fdatasync(this.fd, done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    fs.close(this.fd, () => done(error));
  }

  private writeAll(chunk: Buffer, offset: number, done: (error: Error | null) => void): void {
    fs.write(this.fd, chunk, offset, chunk.byteLength - offset, null, (error, written) => {
      if (error) return done(error);
      if (offset + written < chunk.byteLength) return this.writeAll(chunk, offset + written, done);
      done(null);
    });
  }
}
