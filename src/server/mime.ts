/**
 * Content-Type by file extension for static assets, from the `mime` package's table of
 * IANA-registered types (its lite table: no `x-` types, so `.xyz` stays unknown). Text types
 * carry charset=utf-8 because bundlers emit UTF-8 and browsers otherwise guess.
 */
import { Mime } from "mime/lite";
import standardTypes from "mime/types/standard.js";

// Three extensions keep the type partyhouse sent before it used the registry, which is what
// browsers and common servers send too (the registry: application/node, image/vnd.microsoft.icon,
// audio/x-flac in its full table).
const TYPES = new Mime(standardTypes).define({ "text/javascript": ["cjs"], "image/x-icon": ["ico"], "audio/flac": ["flac"] }, true);

const FALLBACK = "application/octet-stream";

/** Types a browser decodes as text, and so reads with the charset given. */
function isText(type: string): boolean {
  return type.startsWith("text/") || type === "application/json" || type === "application/xml" || type.endsWith("+json") || type.endsWith("+xml");
}

/** The type for `path`'s extension (case-insensitive), or undefined if the table lacks it. */
export function mimeTypeOf(path: string): string | undefined {
  const slash = path.lastIndexOf("/");
  const dot = path.lastIndexOf(".");
  // A dot before the last slash belongs to a folder; a leading dot is a dotfile, not an extension.
  if (dot <= slash + 1) return undefined;
  const type = TYPES.getType(path.slice(dot + 1));
  if (type === null) return undefined;
  return isText(type) ? `${type}; charset=utf-8` : type;
}

/** What to send as Content-Type: the known type, else application/octet-stream. */
export function contentTypeOf(path: string): string {
  return mimeTypeOf(path) ?? FALLBACK;
}
