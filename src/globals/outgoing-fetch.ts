/**
 * The `fetch` a server bundle calls. A subrequest is outgoing output, like a reply: on a Durable
 * Object it leaves only once the writes made before it are durable, and fails if they failed.
 * `fetch` cannot tell which room calls it (no per-call context without AsyncLocalStorage, whose
 * promise hooks would tax every event), so it waits for every write made so far in the process:
 * at most the group commit in flight and the next one, and nothing at all when no write is
 * pending. `room.context.parties` calls know their room and wait for its writes only.
 * A LazyRequest (src/server/lazy-request.ts) goes to undici as the real Request it stands for.
 */
import { LazyRequest } from "../server/lazy-request.js";

/** What holds outgoing fetches: a storage service of this process. */
export interface FetchBarrier {
  whenAllDurable(): Promise<void> | undefined;
}

const barriers = new Set<FetchBarrier>();

export function holdFetchesFor(barrier: FetchBarrier): void {
  barriers.add(barrier);
}

export function releaseFetchesFrom(barrier: FetchBarrier): void {
  barriers.delete(barrier);
}

export function outgoingFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  if (LazyRequest.isLazy(input)) input = LazyRequest.real(input);
  if (LazyRequest.isLazy(init)) init = LazyRequest.real(init);
  let held: Array<Promise<void>> | undefined;
  for (const barrier of barriers) {
    const durable = barrier.whenAllDurable();
    if (durable !== undefined) (held ??= []).push(durable);
  }
  if (held === undefined) return fetch(input, init);
  return Promise.all(held).then(() => fetch(input, init));
}
