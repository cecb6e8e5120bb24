/**
 * How the admin API shows a stored value or a connection's state: as JSON when JSON holds it
 * exactly (plain objects, dense arrays, strings, finite numbers, booleans, null), otherwise as
 * its type with how many entries it holds (Map, Set, Array) or its byteLength (binary data),
 * and a short preview where one means something (a Date, a bigint). Neither is called `size`:
 * the storage API uses that name for the stored byte size of every value.
 */
export type ShownValue =
  | { readonly json: unknown }
  | { readonly type: string; readonly entries?: number; readonly byteLength?: number; readonly preview?: string };

const MAX_NODES = 10_000;
const MAX_DEPTH = 64;

export function showValue(value: unknown): ShownValue {
  if (isExactJson(value)) return { json: value };
  return describe(value);
}

function describe(value: unknown): ShownValue {
  if (value === undefined) return { type: "undefined" };
  if (typeof value === "bigint") return { type: "bigint", preview: value.toString().slice(0, 200) };
  if (typeof value === "number") return { type: "number", preview: String(value) };
  if (typeof value !== "object" || value === null) return { type: typeof value };
  if (value instanceof Date) return { type: "Date", preview: Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString() };
  if (value instanceof Map) return { type: "Map", entries: value.size };
  if (value instanceof Set) return { type: "Set", entries: value.size };
  if (value instanceof ArrayBuffer) return { type: "ArrayBuffer", byteLength: value.byteLength };
  if (ArrayBuffer.isView(value)) return { type: value.constructor.name, byteLength: value.byteLength };
  if (value instanceof RegExp) return { type: "RegExp", preview: String(value).slice(0, 200) };
  if (value instanceof Error) return { type: value.name || "Error", preview: value.message.slice(0, 200) };
  if (Array.isArray(value)) return { type: "Array", entries: value.length };
  return { type: value.constructor?.name || "Object" };
}

/** Whether JSON.stringify then JSON.parse gives back an equal value. */
export function isExactJson(value: unknown): boolean {
  let nodes = 0;
  const seen = new Set<object>();
  const visit = (node: unknown, depth: number): boolean => {
    if (node === null || typeof node === "string" || typeof node === "boolean") return true;
    if (typeof node === "number") return Number.isFinite(node) && !Object.is(node, -0);
    if (typeof node !== "object" || depth > MAX_DEPTH || ++nodes > MAX_NODES || seen.has(node)) return false;
    seen.add(node);
    const proto = Object.getPrototypeOf(node);
    if (Array.isArray(node)) {
      if (proto !== Array.prototype || Object.keys(node).length !== node.length) return false;
      return node.every((item) => visit(item, depth + 1));
    }
    if (proto !== Object.prototype && proto !== null) return false;
    return Object.values(node).every((item) => visit(item, depth + 1));
  };
  return visit(value, 0);
}
