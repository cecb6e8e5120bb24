/**
 * Storage keys are JavaScript strings ordered by their UTF-8 bytes, as SQLite's memcmp orders
 * BLOBs. UTF-8 byte order equals code point order, which differs from JavaScript's UTF-16
 * `<` only where a surrogate pair (an astral code point) meets U+E000–U+FFFF.
 */

/** Lone surrogates cannot be encoded in UTF-8; replace them (as the encoder would) so that the
 *  key we cache is the key we store. */
export function normalizeKey(key: unknown): string {
  const text = typeof key === "string" ? key : String(key);
  const wellFormed = text as unknown as WellFormedString;
  return wellFormed.isWellFormed() ? text : wellFormed.toWellFormed();
}

/** ES2024 methods (Node 22 has them; the project's lib is ES2023). */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** Negative, zero or positive as `a` sorts before, with or after `b` in UTF-8 byte order. */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/**
 * Moves surrogates (U+D800–U+DFFF, which start astral code points) above U+E000–U+FFFF and
 * those below, so that comparing ranks of the first differing UTF-16 units gives code point order.
 */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  if (unit < 0xe000) return unit + 0x2000;
  return unit - 0x800;
}
