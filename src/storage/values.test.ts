import { test } from "node:test";
import assert from "node:assert/strict";
import v8 from "node:v8";
import fc from "fast-check";
import { encodeValue, StoredValue } from "./values.js";

function roundTrip<T>(value: T): T {
  // Through bytes, as a value read back from the engine.
  return StoredValue.fromBytes(encodeValue(value).bytes).read() as T;
}

test("structured clone round trips of the spec's value kinds", () => {
  const date = new Date(1_700_000_000_000);
  assert.deepEqual(roundTrip(date), date);
  assert.ok(Number.isNaN(roundTrip(new Date(NaN)).getTime()));
  assert.deepEqual(roundTrip(new Map<unknown, unknown>([["a", 1], [2, { b: [3] }]])), new Map<unknown, unknown>([["a", 1], [2, { b: [3] }]]));
  assert.deepEqual(roundTrip(new Set([1, "x"])), new Set([1, "x"]));
  assert.equal(roundTrip(2n ** 70n), 2n ** 70n);
  const regexp = roundTrip(/a+b/gi);
  assert.equal(regexp.source, "a+b");
  assert.equal(regexp.flags, "gi");
  const error = roundTrip(new TypeError("boom"));
  assert.ok(error instanceof TypeError);
  assert.equal(error.message, "boom");
  assert.ok(Object.is(roundTrip(-0), -0));
  assert.ok(Number.isNaN(roundTrip(NaN)));
  assert.equal(roundTrip(Infinity), Infinity);
  assert.equal(roundTrip(-Infinity), -Infinity);
  assert.deepEqual(roundTrip([1, undefined, null]), [1, undefined, null]);
  assert.equal(typeof roundTrip(Object(1)), "object");
  assert.equal(roundTrip(Object("s")).valueOf(), "s");
  assert.deepEqual(roundTrip({ nested: { deep: [1, { x: "y" }] } }), { nested: { deep: [1, { x: "y" }] } });
});

test("sparse arrays keep their holes", () => {
  // eslint-disable-next-line no-sparse-arrays
  const sparse = roundTrip([1, , 3]);
  assert.equal(sparse.length, 3);
  assert.equal(1 in sparse, false);
  assert.equal(sparse[2], 3);
  // And on later reads, when a snapshot may be kept.
  const stored = StoredValue.fromBytes(encodeValue([1, , 3]).bytes);
  for (let i = 0; i < 3; i++) assert.equal(1 in (stored.read() as unknown[]), false);
});

test("cycles and shared references are preserved", () => {
  const shared = { n: 1 };
  const value: { a: object; b: object; self?: unknown } = { a: shared, b: shared };
  value.self = value;
  const stored = StoredValue.fromBytes(encodeValue(value).bytes);
  for (let i = 0; i < 3; i++) {
    const copy = stored.read() as typeof value;
    assert.equal(copy.a, copy.b);
    assert.equal(copy.self, copy);
  }
});

test("a typed array subarray stores only its bytes and comes back with its own buffer", () => {
  const big = new Uint8Array(1000).fill(7);
  const view = big.subarray(10, 14);
  const stored = encodeValue(view);
  assert.ok(stored.bytes.byteLength < 32, `stored ${stored.bytes.byteLength} bytes`);
  const copy = roundTrip(view);
  assert.ok(copy instanceof Uint8Array);
  assert.deepEqual([...copy], [7, 7, 7, 7]);
  assert.equal(copy.byteOffset, 0);
  assert.equal(copy.buffer.byteLength, 4);
  const floats = roundTrip(new Float64Array([1.5, -2]));
  assert.ok(floats instanceof Float64Array);
  assert.deepEqual([...floats], [1.5, -2]);
  const dataView = roundTrip(new DataView(new Uint8Array([1, 2, 3]).buffer, 1, 2));
  assert.equal(dataView.byteLength, 2);
  assert.equal(dataView.getUint8(0), 2);
  const arrayBuffer = roundTrip(new Uint8Array([9, 8]).buffer);
  assert.ok(arrayBuffer instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(arrayBuffer)], [9, 8]);
});

test("functions and symbols throw DataCloneError", () => {
  assert.throws(() => encodeValue({ f: () => 1 }), (error: unknown) => {
    assert.ok(error instanceof DOMException);
    assert.equal(error.name, "DataCloneError");
    assert.match(error.message, /could not be cloned\.$/);
    return true;
  });
  assert.throws(() => encodeValue(Symbol("s")), { name: "DataCloneError" });
});

test("every read is a fresh copy", () => {
  for (const stored of [encodeValue({ list: [1, 2], inner: { a: 1 } }), StoredValue.fromBytes(encodeValue({ list: [1, 2], inner: { a: 1 } }).bytes)]) {
    // The first reads decode; later ones copy a kept snapshot: all must be independent.
    for (let i = 0; i < 4; i++) {
      const copy = stored.read() as { list: number[]; inner: { a: number } };
      assert.deepEqual(copy, { list: [1, 2], inner: { a: 1 } });
      copy.list.push(3);
      copy.inner.a = 99;
    }
  }
  const map = encodeValue(new Map([["k", 1]]));
  for (let i = 0; i < 3; i++) {
    const copy = map.read() as Map<string, number>;
    assert.equal(copy.get("k"), 1);
    copy.set("k", 2);
  }
});

test("a plain object with an own __proto__ key keeps it", () => {
  const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
  const stored = StoredValue.fromBytes(encodeValue(value).bytes);
  for (let i = 0; i < 3; i++) {
    const copy = stored.read() as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(copy), Object.prototype);
    assert.deepEqual(Object.keys(copy).sort(), ["__proto__", "a"]);
  }
});

test("strings are written in v8.serialize's exact bytes, and read back", () => {
  // Literals: V8 holds Latin-1 ones as one-byte strings and the others as two-byte, as the
  // direct encoder chooses. Lengths cross the varint boundaries, so padding varies too.
  const strings = ["", "a", "x".repeat(64), "é".repeat(3), "€", "😀", "\ud800 lone", "a\udc00"];
  for (const length of [127, 128, 16383, 16384]) strings.push("y".repeat(length), "ÿ".repeat(length), "ж".repeat(length), "ж".repeat(length / 2));
  for (const value of strings) {
    const bytes = encodeValue(value).bytes;
    assert.deepEqual(Buffer.from(bytes), v8.serialize(value), `bytes of a ${value.length}-character string`);
    assert.equal(roundTrip(value), value);
    assert.equal(v8.deserialize(bytes), value);
  }
});

test("an oversized string is refused with the size v8.serialize would give", () => {
  const fits = "x".repeat(131072 + 32 - 6);
  assert.equal(encodeValue(fits).bytes.byteLength, v8.serialize(fits).byteLength);
  for (const value of ["x".repeat(131072 + 32 - 5), "ж".repeat(70_000)]) {
    assert.throws(() => encodeValue(value), {
      name: "RangeError",
      message: `Values cannot be larger than 131072 bytes. A value of size ${v8.serialize(value).byteLength} was provided.`,
    });
  }
});

test("numbers, booleans, null and undefined are written in v8.serialize's bytes, and read back", () => {
  const scalars: unknown[] = [true, false, null, undefined, 0, 1, -1, 26, 63, 64, -64, -65, 2 ** 31 - 1, -(2 ** 31), 1.5, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE];
  for (const value of scalars) {
    const bytes = encodeValue(value).bytes;
    assert.deepEqual(Buffer.from(bytes), v8.serialize(value), `bytes of ${String(value)}`);
    assert.ok(Object.is(roundTrip(value), value), `${String(value)} read back`);
  }
  fc.assert(
    fc.property(fc.oneof(fc.integer(), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => n * 2), fc.double()), (value) => {
      const bytes = encodeValue(value).bytes;
      // Every form must read back as the same number, through V8's own deserializer too.
      assert.ok(Object.is(v8.deserialize(bytes), value));
      assert.ok(Object.is(roundTrip(value), value));
      // A literal integer is a Smi to V8 and non-integers are doubles: the same bytes as V8's.
      if (!Number.isInteger(value) || Number.isSafeInteger(value)) {
        const expected = v8.serialize(value);
        if (expected[2] === bytes[2]) assert.deepEqual(Buffer.from(bytes), expected);
      }
    }),
  );
});
