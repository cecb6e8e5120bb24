import { test } from "node:test";
import assert from "node:assert/strict";
import { contentTypeOf, mimeTypeOf } from "./mime.js";

const known: Array<[string, string]> = [
  ["/index.html", "text/html; charset=utf-8"],
  ["/a/app.js", "text/javascript; charset=utf-8"],
  ["/a/mod.mjs", "text/javascript; charset=utf-8"],
  ["/s.css", "text/css; charset=utf-8"],
  ["/d.json", "application/json; charset=utf-8"],
  ["/app.js.map", "application/json; charset=utf-8"],
  ["/i.svg", "image/svg+xml; charset=utf-8"],
  ["/i.png", "image/png"],
  ["/i.JPG", "image/jpeg"],
  ["/i.jpeg", "image/jpeg"],
  ["/i.gif", "image/gif"],
  ["/i.webp", "image/webp"],
  ["/favicon.ico", "image/x-icon"],
  ["/m.wasm", "application/wasm"],
  ["/r.txt", "text/plain; charset=utf-8"],
  ["/f.woff", "font/woff"],
  ["/f.woff2", "font/woff2"],
  ["/a.mp3", "audio/mpeg"],
  ["/v.mp4", "video/mp4"],
  ["/doc.pdf", "application/pdf"],
  // Kept as partyhouse sent them before it used the registry (see mime.ts).
  ["/lib.cjs", "text/javascript; charset=utf-8"],
  ["/a.flac", "audio/flac"],
  // Known since it did: every registered type, charset=utf-8 on text ones.
  ["/data.jsonld", "application/ld+json; charset=utf-8"],
  ["/config.yaml", "text/yaml; charset=utf-8"],
  ["/model.glb", "model/gltf-binary"],
  ["/clip.mov", "video/quicktime"],
];

for (const [path, type] of known) {
  test(`${path} is ${type}`, () => {
    assert.equal(mimeTypeOf(path), type);
    assert.equal(contentTypeOf(path), type);
  });
}

const unknown = ["/file.xyz", "/noext", "/dir.d/noext", "/.env", "/a/.gitignore", "/trailing.", "/constructor", "/x.constructor", "/x.toString"];

for (const path of unknown) {
  test(`${path} has no known type and is sent as octet-stream`, () => {
    assert.equal(mimeTypeOf(path), undefined);
    assert.equal(contentTypeOf(path), "application/octet-stream");
  });
}
