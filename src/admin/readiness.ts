/**
 * Readiness: whether this process should receive traffic. Each part of the system that can
 * make it unready is a source: storage (open, and its last commit succeeded or the engine has
 * answered since) and, in a cluster, the node (lease held, not draining, database answering:
 * Membership). /readyz answers 200 only when every source is ready.
 */
export interface ReadinessState {
  readonly ok: boolean;
  /** One line: why (not) ready. */
  readonly reason: string;
}

export interface Readiness {
  ready(): ReadinessState;
}

/** All sources must be ready; the reason names every source that is not (or all that are). */
export function combineReadiness(sources: readonly Readiness[]): ReadinessState {
  const states = sources.map((source) => source.ready());
  const failing = states.filter((state) => !state.ok);
  if (failing.length > 0) return { ok: false, reason: failing.map((state) => state.reason).join("; ") };
  return { ok: true, reason: states.map((state) => state.reason).join("; ") || "ready" };
}
