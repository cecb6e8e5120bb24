/**
 * Static assets (`serve` in partykit.json), with PartyKit's lookup rules (spec 3.6): GET/HEAD
 * only, trailing slash means index.html, dotfiles and node_modules never served, optional
 * single-page-app fallback, and /404.html for misses. Files are read from disk per request.
 */
import { resolve } from "node:path";
import type { StaticAssetsOptions } from "./options.js";
import { assetFileOf, decodeAssetPath } from "./asset-path.js";
import { RealRoot } from "./confine.js";
import { fileResponse } from "./file-response.js";
import { mimeTypeOf } from "./mime.js";

export interface MatchOptions {
  /** The path addresses a room (/parties/... or /party/...): narrows the SPA fallback. */
  isPartyPath: boolean;
}

export class StaticAssets {
  private readonly root: string;
  private readonly singlePageApp: boolean;
  private readonly cacheControl: string;
  private readonly realRoot: RealRoot;

  constructor(options: StaticAssetsOptions) {
    this.root = resolve(options.root);
    this.realRoot = new RealRoot(this.root);
    this.singlePageApp = options.singlePageApp === true;
    this.cacheControl = cacheControlOf(options.browserTTL, options.edgeTTL);
  }

  /** The asset answering `request`, or null so the caller moves on (onFetch, 404). */
  async match(request: Request, options: MatchOptions): Promise<Response | null> {
    const method = request.method;
    if (method !== "GET" && method !== "HEAD") return null;
    const path = decodeAssetPath(pathnameOf(request.url));
    if (path === null) return null;

    const head = method === "HEAD";
    const conditional = {
      ifNoneMatch: request.headers.get("if-none-match"),
      ifModifiedSince: request.headers.get("if-modified-since"),
    };
    const found = await this.serve(path, head, 200, conditional);
    if (found !== null || !this.wantsAppShell(request, path, options.isPartyPath)) return found;
    return this.serve("/index.html", head, 200, conditional);
  }

  /** `/404.html` with status 404, if the project has one. */
  notFound(): Promise<Response | null> {
    return this.serve("/404.html", false, 404, {});
  }

  /** `room.context.assets.fetch(path)`: the same lookup, no fallbacks; null on a miss. */
  async fetch(path: string): Promise<Response | null> {
    if (typeof path !== "string" || !path.startsWith("/")) throw new TypeError("Path must start with /");
    const decoded = decodeAssetPath(pathnameOf(path));
    return decoded === null ? null : this.serve(decoded, false, 200, {});
  }

  /**
   * The SPA fallback is for browser page loads only. On a room path it applies only when the
   * URL looks like a page (.html) or like nothing a file would be named.
   */
  private wantsAppShell(request: Request, path: string, isPartyPath: boolean): boolean {
    if (!this.singlePageApp || request.headers.get("sec-fetch-mode") !== "navigate") return false;
    return !isPartyPath || path.endsWith(".html") || mimeTypeOf(path) === undefined;
  }

  private async serve(
    path: string,
    head: boolean,
    status: number,
    conditional: { ifNoneMatch?: string | null; ifModifiedSince?: string | null },
  ): Promise<Response | null> {
    const named = assetFileOf(this.root, path);
    if (named === null) return null;
    // Symlinks are followed only while they stay inside the served folder.
    const file = await this.realRoot.confine(named);
    if (file === null) return null;
    return fileResponse(file, { head, status, cacheControl: this.cacheControl, requestedName: named, ...conditional });
  }
}

/**
 * browserTTL becomes max-age and edgeTTL s-maxage (what a CDN in front of partyhouse reads).
 * Without a browserTTL browsers must revalidate every time, which the ETag makes cheap and
 * which keeps edits visible in dev.
 */
function cacheControlOf(browserTTL: number | null | undefined, edgeTTL: number | null | undefined): string {
  const parts = [typeof browserTTL === "number" ? `public, max-age=${Math.max(0, Math.floor(browserTTL))}` : "no-cache"];
  if (typeof edgeTTL === "number") parts.push(`s-maxage=${Math.max(0, Math.floor(edgeTTL))}`);
  return parts.join(", ");
}

/** The raw (still percent-encoded) path of a URL or of a path with a query. */
function pathnameOf(url: string): string {
  if (url.startsWith("/")) {
    const end = url.search(/[?#]/);
    return end === -1 ? url : url.slice(0, end);
  }
  return new URL(url).pathname;
}
