/**
 * Values are stored as V8 structured-clone bytes (what Durable Objects store) and handed back
 * as fresh copies. Decoding bytes costs microseconds, so a stored value also keeps a decoded
 * snapshot when a cheaper exact copy exists: primitives need none, and a plain tree of plain
 * objects, dense arrays and primitives is copied by a small recursive walk.
 */
import { endianness } from "node:os";
import v8 from "node:v8";
import { checkValueSize } from "./limits.js";

const enum Shape {
  /** Not decoded yet. */
  Unknown,
  /** Decoded once: a value read only once (a cold read, a list) never pays for a snapshot. */
  ReadOnce,
  /** `decoded` is the value itself: nothing to copy. */
  Primitive,
  /** `decoded` is a plain tree: copyPlainTree gives an exact clone. */
  PlainTree,
  /** Anything else (Map, Date, typed arrays, shared references...): decode the bytes each time. */
  Complex,
}

export class StoredValue {
  constructor(
    readonly bytes: Uint8Array,
    private decoded: unknown,
    private shape: Shape,
  ) {}

  static fromBytes(bytes: Uint8Array): StoredValue {
    return new StoredValue(bytes, undefined, Shape.Unknown);
  }

  /** A fresh copy of the value: mutating it never changes what is stored. */
  read(): unknown {
    switch (this.shape) {
      case Shape.Primitive:
        return this.decoded;
      case Shape.PlainTree:
        return copyPlainTree(this.decoded);
      case Shape.Complex:
        return decodeValue(this.bytes);
      case Shape.Unknown:
        this.shape = Shape.ReadOnce;
        return decodeValue(this.bytes);
      default:
        return this.secondRead();
    }
  }

  /** Read again, so likely hot: keep a snapshot if an exact copy is cheaper than decoding. */
  private secondRead(): unknown {
    const fresh = decodeValue(this.bytes);
    if (fresh === null || typeof fresh !== "object") {
      this.shape = Shape.Primitive;
      this.decoded = fresh;
      return fresh;
    }
    if (isPlainTree(fresh)) {
      this.shape = Shape.PlainTree;
      this.decoded = fresh;
      return copyPlainTree(fresh);
    }
    this.shape = Shape.Complex;
    return fresh;
  }

  /** Rough memory held, for the cache bound: the bytes, plus as much again for a snapshot. */
  get approximateBytes(): number {
    return this.shape === Shape.PlainTree ? this.bytes.byteLength * 2 : this.bytes.byteLength;
  }
}

/** Serializes a value for storage, throwing what Durable Objects throw for uncloneable or
 *  oversized values. */
export function encodeValue(value: unknown): StoredValue {
  if (typeof value === "string" && WRITES_STRINGS_DIRECTLY) return new StoredValue(encodeString(value), value, Shape.Primitive);
  const scalar = encodeScalar(value);
  if (scalar !== undefined) return new StoredValue(scalar, value, Shape.Primitive);
  let bytes: Uint8Array;
  try {
    bytes = v8.serialize(value);
  } catch (error) {
    throw asDataCloneError(error);
  }
  checkValueSize(bytes.byteLength);
  const primitive = value === null || (typeof value !== "object" && typeof value !== "function");
  return new StoredValue(bytes, primitive ? value : undefined, primitive ? Shape.Primitive : Shape.Unknown);
}

/**
 * Strings are the most common value (chat messages, a flood's payloads), and v8.serialize
 * builds a native Serializer object per call: in the flood benchmark (issue 11) it took ~15% of
 * the main thread plus the garbage of those objects. A string's serialized form is simple, so it
 * is written directly, in V8's format: header (0xFF, version), then either a one-byte string
 * ('"', varint length, Latin-1 bytes) or a two-byte one (a 0 padding byte when needed so the
 * characters start at an even offset, 'c', varint byte length, UTF-16 in the machine's byte
 * order, which is why big-endian machines keep v8.serialize). v8.deserialize reads both.
 * V8 picks one-byte by its internal representation; this picks it whenever every character
 * fits, so a Latin-1 string that V8 held as two-byte gets the shorter, equally valid form.
 */
const WRITES_STRINGS_DIRECTLY = endianness() === "LE";
/** 0xFF and the format version, as this V8 writes them. */
const HEADER = v8.serialize("").subarray(0, 2);
const ONE_BYTE_STRING = 0x22;
const TWO_BYTE_STRING = 0x63;
const PADDING = 0x00;

function encodeString(value: string): Uint8Array {
  const oneByte = isLatin1(value);
  const byteLength = oneByte ? value.length : value.length * 2;
  const lengthBytes = varintBytes(byteLength);
  const padding = !oneByte && (HEADER.length + 1 + lengthBytes) % 2 === 1 ? 1 : 0;
  const total = HEADER.length + padding + 1 + lengthBytes + byteLength;
  checkValueSize(total);
  // Not from Buffer's shared pool: a stored value must not keep 8 KiB of other data alive.
  const bytes = Buffer.allocUnsafeSlow(total);
  bytes.set(HEADER, 0);
  let offset = HEADER.length;
  if (padding === 1) bytes[offset++] = PADDING;
  bytes[offset++] = oneByte ? ONE_BYTE_STRING : TWO_BYTE_STRING;
  for (let rest = byteLength; ; rest >>>= 7) {
    if (rest < 0x80) {
      bytes[offset++] = rest;
      break;
    }
    bytes[offset++] = (rest & 0x7f) | 0x80;
  }
  bytes.write(value, offset, oneByte ? "latin1" : "utf16le");
  return bytes;
}

/**
 * Numbers, booleans, null and undefined (counters, flags, timestamps) in V8's format, for the
 * same reason as strings: v8.serialize's Serializer object was ~2.5% of the main thread in the
 * durable-put bench for a one-number value. An integer V8 holds as a Smi (int32 on 64-bit
 * builds) is 'I' and its zigzag varint, any other number 'N' and its IEEE double, little-endian
 * as V8 writes it on this machine (hence WRITES_STRINGS_DIRECTLY); v8.deserialize reads both
 * forms for any number, so a value V8 itself would have tagged the other way reads back equal.
 */
function encodeScalar(value: unknown): Uint8Array | undefined {
  if (!WRITES_STRINGS_DIRECTLY) return undefined;
  switch (typeof value) {
    case "number":
      return Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff && !Object.is(value, -0)
        ? encodeInt32(value)
        : encodeDouble(value);
    case "boolean":
      return scalarBytes(value ? TRUE_TAG : FALSE_TAG, 0);
    case "undefined":
      return scalarBytes(UNDEFINED_TAG, 0);
    case "object":
      return value === null ? scalarBytes(NULL_TAG, 0) : undefined;
    default:
      return undefined;
  }
}

const INT32_TAG = 0x49;
const DOUBLE_TAG = 0x4e;
const TRUE_TAG = 0x54;
const FALSE_TAG = 0x46;
const NULL_TAG = 0x30;
const UNDEFINED_TAG = 0x5f;

/** Header and tag, then `payload` bytes for the caller to fill; outside Buffer's shared pool. */
function scalarBytes(tag: number, payload: number): Buffer {
  const bytes = Buffer.allocUnsafeSlow(HEADER.length + 1 + payload);
  bytes.set(HEADER, 0);
  bytes[HEADER.length] = tag;
  return bytes;
}

function encodeInt32(value: number): Uint8Array {
  // Zigzag: 0, -1, 1, -2, ... as 0, 1, 2, 3, ... (unsigned 32-bit).
  let rest = ((value << 1) ^ (value >> 31)) >>> 0;
  const bytes = scalarBytes(INT32_TAG, varintBytes(rest));
  let offset = HEADER.length + 1;
  while (rest >= 0x80) {
    bytes[offset++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  bytes[offset] = rest;
  return bytes;
}

function encodeDouble(value: number): Uint8Array {
  const bytes = scalarBytes(DOUBLE_TAG, 8);
  bytes.writeDoubleLE(value, HEADER.length + 1);
  return bytes;
}

function isLatin1(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0xff) return false;
  return true;
}

function varintBytes(value: number): number {
  let bytes = 1;
  while (value >= 0x80) {
    value >>>= 7;
    bytes++;
  }
  return bytes;
}

/** node:v8 throws a plain Error; structuredClone, browsers and workerd throw a DataCloneError. */
function asDataCloneError(error: unknown): unknown {
  if (error instanceof Error && error.message.endsWith("could not be cloned.")) {
    return new DOMException(error.message, "DataCloneError");
  }
  return error;
}

/**
 * node:v8 deserializes typed arrays as views into the serialized message, so `view.buffer`
 * would expose unrelated bytes; structured clone gives each view a buffer of its own.
 */
class OwnBufferDeserializer extends v8.DefaultDeserializer {
  _readHostObject(): unknown {
    const readHostObject = (v8.DefaultDeserializer.prototype as unknown as HostObjectReader)
      ._readHostObject;
    const view = readHostObject.call(this) as ArrayBufferView;
    if (view instanceof DataView) {
      return new DataView(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
    }
    if (Buffer.isBuffer(view)) {
      const copy = Buffer.alloc(view.byteLength);
      copy.set(view);
      return copy;
    }
    const TypedArray = view.constructor as new (source: ArrayBufferView) => ArrayBufferView;
    return new TypedArray(view);
  }
}

interface HostObjectReader {
  _readHostObject(this: v8.Deserializer): unknown;
}

export function decodeValue(bytes: Uint8Array): unknown {
  const deserializer = new OwnBufferDeserializer(bytes as Buffer);
  deserializer.readHeader();
  return deserializer.readValue();
}

const MAX_PLAIN_NODES = 10_000;
const MAX_PLAIN_DEPTH = 64;

/**
 * True when `value` (a freshly decoded object) is a tree of plain objects and dense arrays with
 * primitive leaves, no shared references, so that copyPlainTree reproduces it exactly.
 */
function isPlainTree(value: object): boolean {
  const seen = new Set<object>();
  const visit = (node: unknown, depth: number): boolean => {
    if (node === null || typeof node !== "object") return true;
    if (depth > MAX_PLAIN_DEPTH || seen.has(node) || seen.size >= MAX_PLAIN_NODES) return false;
    seen.add(node);
    const proto = Object.getPrototypeOf(node);
    if (proto === Array.prototype) {
      const array = node as unknown[];
      // Holes or extra named properties are not reproduced by an index loop.
      if (Object.keys(array).length !== array.length) return false;
      for (let i = 0; i < array.length; i++) if (!visit(array[i], depth + 1)) return false;
      return true;
    }
    if (proto !== Object.prototype) return false;
    const record = node as Record<string, unknown>;
    // Assigning "__proto__" would set the prototype instead of copying the property.
    if (Object.prototype.hasOwnProperty.call(record, "__proto__")) return false;
    for (const key of Object.keys(record)) if (!visit(record[key], depth + 1)) return false;
    return true;
  };
  return visit(value, 0);
}

function copyPlainTree(node: unknown): unknown {
  if (node === null || typeof node !== "object") return node;
  if (Array.isArray(node)) {
    const copy = new Array<unknown>(node.length);
    for (let i = 0; i < node.length; i++) copy[i] = copyPlainTree(node[i]);
    return copy;
  }
  const record = node as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(record)) copy[key] = copyPlainTree(record[key]);
  return copy;
}
