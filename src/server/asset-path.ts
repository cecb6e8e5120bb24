/**
 * Turning a request path into a file under the static root, or refusing to. This is the only
 * guard between a URL and the file system, so it rejects anything ambiguous rather than
 * trying to normalise it: only plain names joined by single slashes get through.
 */
import { join, sep } from "node:path";

/** PartyKit's rule: percent-decoded, and a trailing slash means the folder's index.html. */
export function decodeAssetPath(rawPathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPathname);
  } catch {
    return null; // malformed escapes are a miss, never an error
  }
  return decoded.endsWith("/") ? decoded + "index.html" : decoded;
}

/**
 * The absolute file for a decoded path like "/a/b.js", or null when the path is not one a
 * static asset can have: dot segments and dotfiles (".env", ".git", ".."), node_modules,
 * empty segments, backslashes (Windows separators), NUL, or anything resolving outside root.
 */
export function assetFileOf(root: string, decodedPath: string): string | null {
  if (!decodedPath.startsWith("/")) return null;
  if (decodedPath.includes("\\") || decodedPath.includes("\0")) return null;
  const segments = decodedPath.slice(1).split("/");
  for (const segment of segments) {
    if (segment === "" || segment.startsWith(".") || segment === "node_modules") return null;
  }
  const file = join(root, ...segments);
  // Belt and braces: the checks above should make this impossible.
  return file.startsWith(root.endsWith(sep) ? root : root + sep) ? file : null;
}
