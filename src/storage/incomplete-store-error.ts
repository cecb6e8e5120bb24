/**
 * Thrown when a store holds the mark of a restore, import or migrate that has not finished
 * (src/data): serving it would serve part of the data as if it were all of it.
 */
export class IncompleteStoreError extends Error {
  constructor(
    readonly where: string,
    /** The mark's text: which operation, from where, since when. */
    readonly mark: string,
  ) {
    super(
      `${where} holds an unfinished ${describeMark(mark)}: its data is incomplete, so it is not served. ` +
        `Run the same partyhouse restore/import/migrate command again to complete it.`,
    );
    this.name = "IncompleteStoreError";
  }
}

function describeMark(mark: string): string {
  try {
    const parsed = JSON.parse(mark) as { operation?: unknown; source?: unknown; started?: unknown };
    if (typeof parsed.operation === "string") {
      const from = typeof parsed.source === "string" ? ` from ${parsed.source}` : "";
      const since = typeof parsed.started === "string" ? ` (started ${parsed.started})` : "";
      return `${parsed.operation}${from}${since}`;
    }
  } catch {
    // Not JSON: say what it says.
  }
  return `operation (${mark})`;
}
