/** An operation that would overwrite or mix data without being told to: nothing was written. */
import type { IncompleteMark } from "./store.js";

export class RefusedError extends Error {
  override name = "RefusedError";
}

export function describeMark(mark: IncompleteMark): string {
  return `${mark.operation} from ${mark.source}${mark.started ? ` (started ${mark.started})` : ""}`;
}
