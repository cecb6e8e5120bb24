import { NO_TAGS } from "./socket-record.js";

/** PartyKit's limits on connection tags: at most 10 including the id, each 1–256 characters. */
export const MAX_TAGS = 10;
export const MAX_TAG_LENGTH = 256;

/**
 * Checks what getConnectionTags returned and gives back the user tags (without the id). As on
 * PartyKit, the limits (with its messages) apply to hibernating rooms, where the platform
 * stores the tags; in-memory rooms take any array.
 */
export function validateTags(id: string, tags: unknown, hibernating: boolean): readonly string[] {
  if (!Array.isArray(tags)) throw new TypeError("getConnectionTags must return an array of strings");
  const own = tags.filter((tag) => tag !== id) as string[];
  if (own.length === 0) return NO_TAGS;
  if (!hibernating) return own;
  if (own.length + 1 > MAX_TAGS) throw new Error(`A connection can only have ${MAX_TAGS} tags, including the default id tag.`);
  for (const tag of own as unknown[]) {
    if (typeof tag !== "string") throw new Error(`A connection tag must be a string. Received: ${String(tag)}`);
    if (tag === "") throw new Error("A connection tag must not be an empty string.");
    if (tag.length > MAX_TAG_LENGTH) throw new Error(`A connection tag must not exceed ${MAX_TAG_LENGTH} characters`);
  }
  return own;
}
