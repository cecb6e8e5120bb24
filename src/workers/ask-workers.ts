/**
 * The supervisor asking its workers' admin listeners (each on loopback, with the supervisor's
 * secret as its token): for the room API (admin-api.ts) and for /metrics (admin-gateway.ts).
 * A worker whose answer does not start in time (stuck, or gone) is named, not waited for.
 */

/** A worker's admin listener, by the worker's index. */
export interface WorkerAdminUrl {
  readonly worker: number;
  readonly url: string;
}

export interface WorkerAnswer {
  readonly worker: number;
  readonly response: Response;
}

export interface AskOptions {
  readonly token: string;
  /** How long an answer may take to start. */
  readonly timeoutMs: number;
  readonly method?: string;
}

/** The same request to every worker at once: the answers, and the workers that gave none in time. */
export async function askEachWorker(
  admins: readonly WorkerAdminUrl[],
  path: string,
  options: AskOptions,
): Promise<{ readonly answers: WorkerAnswer[]; readonly unanswered: number[] }> {
  const results = await Promise.all(admins.map(({ url }) => askWorker(url, path, options).catch(() => undefined)));
  const answers: WorkerAnswer[] = [];
  const unanswered: number[] = [];
  results.forEach((response, i) => (response === undefined ? unanswered.push(admins[i]!.worker) : answers.push({ worker: admins[i]!.worker, response })));
  return { answers, unanswered };
}

/** One request to one worker's admin listener; rejects if its answer does not start in time. */
export async function askWorker(base: string, path: string, options: AskOptions): Promise<Response> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeoutMs);
  try {
    return await fetch(new URL(path, base), {
      method: options.method ?? "GET",
      headers: { authorization: `Bearer ${options.token}` },
      signal: abort.signal,
    });
  } finally {
    clearTimeout(timer);
  }
}
