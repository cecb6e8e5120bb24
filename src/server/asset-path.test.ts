import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { assetFileOf, decodeAssetPath } from "./asset-path.js";

const root = "/srv/site/public";

const decoding: Array<[raw: string, decoded: string | null]> = [
  ["/", "/index.html"],
  ["/sub/", "/sub/index.html"],
  ["/a.js", "/a.js"],
  ["/with%20space.txt", "/with space.txt"],
  ["/%C3%BC.txt", "/ü.txt"],
  ["/%2e%2e/x", "/../x"],
  ["/..%2fx", "/../x"],
  ["/a%2F", "/a/index.html"],
  ["/bad%E0%A4%A", null],
  ["/%", null],
  ["/%zz", null],
];

for (const [raw, decoded] of decoding) {
  test(`decodeAssetPath(${JSON.stringify(raw)})`, () => {
    assert.equal(decodeAssetPath(raw), decoded);
  });
}

const resolving: Array<[decoded: string, file: string | null]> = [
  ["/index.html", join(root, "index.html")],
  ["/sub/page.html", join(root, "sub/page.html")],
  ["/with space.txt", join(root, "with space.txt")],
  ["/a..b.txt", join(root, "a..b.txt")],
  // traversal in every spelling that survives decoding
  ["/../secret", null],
  ["/sub/../../secret", null],
  ["/sub/..", null],
  ["/./index.html", null],
  ["/..\\secret", null],
  ["/sub\\..\\..\\secret", null],
  ["/index.html\0.png", null],
  ["//etc/passwd", null],
  ["/sub//x", null],
  ["relative/path", null],
  ["", null],
  // never served
  ["/.env", null],
  ["/.git/config", null],
  ["/sub/.hidden", null],
  ["/node_modules/pkg/index.js", null],
  ["/sub/node_modules/x.js", null],
];

for (const [decoded, file] of resolving) {
  test(`assetFileOf(${JSON.stringify(decoded)})`, () => {
    assert.equal(assetFileOf(root, decoded), file);
  });
}

test("a root given with a trailing separator works the same", () => {
  assert.equal(assetFileOf(root + "/", "/a.js"), join(root, "a.js"));
});
