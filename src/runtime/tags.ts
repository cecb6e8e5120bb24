/** PartyKit's limits on connection tags: at most 10 including the id, each 1–256 characters. */
export const MAX_TAGS = 10;
export const MAX_TAG_LENGTH = 256;

/** Checks what getConnectionTags returned and gives back the user tags (without the id). */
export function validateTags(id: string, tags: unknown): readonly string[] {
  if (!Array.isArray(tags)) throw new TypeError("getConnectionTags must return an array of strings");
  if (tags.length + 1 > MAX_TAGS) {
    throw new RangeError(`A connection can have at most ${MAX_TAGS - 1} tags (plus its id); got ${tags.length}`);
  }
  for (const tag of tags) {
    if (typeof tag !== "string" || tag.length === 0) throw new TypeError("A connection tag must be a non-empty string");
    if (tag.length > MAX_TAG_LENGTH) {
      throw new RangeError(`A connection tag can be at most ${MAX_TAG_LENGTH} characters; got ${tag.length}`);
    }
  }
  return tags.filter((tag: string) => tag !== id);
}
