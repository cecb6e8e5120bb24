/**
 * Messages between the supervisor and its workers (`partyhouse start --workers N`), over the
 * IPC channel Node opens for a forked child. Plain JSON objects with a `type`; a connection
 * handed to a worker travels as the handle of a `connection` message, and the supervisor keeps
 * its own copy of it until the worker lets it go or parks it.
 */

/** Where a room is placed: the worker that owns it, and the address its peers forward to. */
export interface Placement {
  readonly worker: number;
  readonly address: string;
  /** Grows with every assignment of the room, so a stale assignment is told apart. */
  readonly epoch: number;
}

export type SupervisorMessage =
  /** A client connection (its handle rides along), with the bytes the supervisor read to route it. */
  | { readonly type: "connection"; readonly id: number; readonly head: string }
  /** The answer to a worker's `locate`; null when no worker may take rooms (all draining). */
  | { readonly type: "placed"; readonly id: number; readonly placement: Placement | null }
  /** A `release` or `hand-off` is done: the table says so now. */
  | { readonly type: "done"; readonly id: number }
  /** The next request on parked connection `id` is for this worker: put `head` (latin1) back and read on. */
  | { readonly type: "resume"; readonly id: number; readonly head: string }
  /** Parked connection `id` went to another worker: close this copy without a word. */
  | { readonly type: "drop"; readonly id: number }
  /** A worker exited: forget routes to it (its rooms are nobody's now). */
  | { readonly type: "worker-gone"; readonly worker: number }
  /** An alarm of a room this worker owns is due (the supervisor polls the shared store). */
  | { readonly type: "alarm"; readonly party: string; readonly room: string; readonly time: number };

export type WorkerMessage =
  /** Serving: its peers reach it at `address` (host:port on loopback); its admin listener, if asked for, at `admin`. */
  | { readonly type: "ready"; readonly address: string; readonly admin?: string }
  /** Still turning its event loop (every HEARTBEAT_MS). */
  | { readonly type: "beat" }
  /** It is done with these connections (they closed, or became WebSockets): the supervisor closes its copies. */
  | { readonly type: "let-go"; readonly ids: readonly number[] }
  /**
   * This connection is idle with nothing read: the supervisor reads and routes its next request
   * (idle-connections.ts). The worker keeps its copy, paused, unless `released` (it drains).
   */
  | { readonly type: "parked"; readonly id: number; readonly released: boolean }
  /** A `resume` for a connection this worker no longer holds: the bytes, to be routed again. */
  | { readonly type: "bounced"; readonly id: number; readonly head: string }
  /**
   * Where the room lives. `claim`: the runtime is about to build it here, so it is this
   * worker's unless another one holds it; otherwise the supervisor picks the least loaded.
   */
  | { readonly type: "locate"; readonly id: number; readonly party: string; readonly room: string; readonly claim: boolean }
  /** This worker no longer runs the room (evicted or drained, storage flushed). */
  | { readonly type: "release"; readonly id: number; readonly party: string; readonly room: string }
  /** This worker gives the room to worker `to` (dropped here, storage flushed); nobody's if `to` cannot take it. */
  | { readonly type: "hand-off"; readonly id: number; readonly party: string; readonly room: string; readonly to: number }
  /** Draining (SIGTERM or a replacement): give it no new rooms or connections. */
  | { readonly type: "draining" };

/** How often a worker says it is alive, and after how long without a beat it counts as stuck. */
export const HEARTBEAT_MS = 100;
export const STUCK_AFTER_MS = 500;

/** In a worker's environment: its index (0-based); the secret its peers share; the bundle to load. */
export const WORKER_INDEX_ENV = "PARTYHOUSE_WORKER_INDEX";
export const WORKER_SECRET_ENV = "PARTYHOUSE_WORKER_SECRET";
export const WORKER_BUNDLE_ENV = "PARTYHOUSE_WORKER_BUNDLE";
/** The SQLite folder the workers share (the supervisor picks it: a temporary one for `--persist false`). */
export const WORKER_DATA_ENV = "PARTYHOUSE_WORKER_DATA";
/** Set when the supervisor serves an admin listener: each worker then runs one on loopback for it. */
export const WORKER_ADMIN_ENV = "PARTYHOUSE_WORKER_ADMIN";

/** In a worker process: its index; else undefined. */
export function workerIndex(): number | undefined {
  const value = process.env[WORKER_INDEX_ENV];
  return value === undefined ? undefined : Number(value);
}
