/**
 * The inspector's static page, served by the admin listener (server.ts) and, with `--workers`,
 * by the supervisor's (src/workers/admin-gateway.ts): plain files shipped beside dist/ and src/
 * (no build step), over the same JSON API.
 */
import { readFileSync } from "node:fs";

export interface InspectorFile {
  readonly body: Buffer;
  readonly type: string;
}

const INSPECTOR_FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/inspector.js": { file: "inspector.js", type: "text/javascript; charset=utf-8" },
  "/inspector.css": { file: "inspector.css", type: "text/css; charset=utf-8" },
};

/** Headers of every inspector file: no framing, no scripts from elsewhere. */
export const INSPECTOR_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'self'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "cache-control": "no-cache",
};

/** The files by request path (`/index.html` is `/`). */
export class InspectorFiles {
  private readonly files = new Map<string, InspectorFile>();

  constructor() {
    for (const [path, { file, type }] of Object.entries(INSPECTOR_FILES)) {
      this.files.set(path, { body: readFileSync(new URL(`../../static/inspector/${file}`, import.meta.url)), type });
    }
  }

  get(path: string): InspectorFile | undefined {
    return this.files.get(path === "/index.html" ? "/" : path);
  }
}
