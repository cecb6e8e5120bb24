/**
 * Content-Type by file extension for static assets: a compact table of what web projects
 * actually ship, rather than a full MIME database. Text types carry charset=utf-8 because
 * bundlers emit UTF-8 and browsers otherwise guess.
 */

const UTF8 = "; charset=utf-8";

const TYPES: Readonly<Record<string, string>> = {
  // documents and code
  html: "text/html" + UTF8,
  htm: "text/html" + UTF8,
  js: "text/javascript" + UTF8,
  mjs: "text/javascript" + UTF8,
  cjs: "text/javascript" + UTF8,
  css: "text/css" + UTF8,
  json: "application/json" + UTF8,
  map: "application/json" + UTF8,
  webmanifest: "application/manifest+json" + UTF8,
  txt: "text/plain" + UTF8,
  md: "text/markdown" + UTF8,
  csv: "text/csv" + UTF8,
  xml: "application/xml" + UTF8,
  wasm: "application/wasm",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
  // images
  svg: "image/svg+xml" + UTF8,
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  ico: "image/x-icon",
  bmp: "image/bmp",
  // fonts
  woff: "font/woff",
  woff2: "font/woff2",
  ttf: "font/ttf",
  otf: "font/otf",
  // audio and video
  mp3: "audio/mpeg",
  wav: "audio/wav",
  ogg: "audio/ogg",
  oga: "audio/ogg",
  flac: "audio/flac",
  m4a: "audio/mp4",
  mp4: "video/mp4",
  webm: "video/webm",
  ogv: "video/ogg",
};

const FALLBACK = "application/octet-stream";

/** The type for `path`'s extension (case-insensitive), or undefined if the table lacks it. */
export function mimeTypeOf(path: string): string | undefined {
  const slash = path.lastIndexOf("/");
  const dot = path.lastIndexOf(".");
  // A dot before the last slash belongs to a folder; a leading dot is a dotfile, not an extension.
  if (dot <= slash + 1) return undefined;
  const extension = path.slice(dot + 1).toLowerCase();
  return Object.hasOwn(TYPES, extension) ? TYPES[extension] : undefined;
}

/** What to send as Content-Type: the known type, else application/octet-stream. */
export function contentTypeOf(path: string): string {
  return mimeTypeOf(path) ?? FALLBACK;
}
