// Helpers shared by the differential parties (bundled into each party by the build).

export function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });
}

/** Path and query of a URL: hosts and ports differ between the two servers. */
export function pathOf(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : `non-error: ${String(error)}`;
}

export function sortedIds(connections: Iterable<{ id: string }>): string {
  return [...connections].map((c) => c.id).sort().join(",");
}
