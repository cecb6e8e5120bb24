import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import "../globals/registry.js";
import "../server/lazy-response.js";
import { loadConfig } from "../config/load.js";
import { tempProjects } from "../config/test-support.js";
import { bundleProject } from "./bundle.js";

const tempProject = tempProjects();

test("bundles see workerd's globals: WebSocketPair, URLPattern, scheduler, navigator, a gated fetch; caches and HTMLRewriter fail only when used", async () => {
  const project = await tempProject({
    "partykit.json": JSON.stringify({ main: "s.ts" }),
    // Mentioning the unsupported ones at module level must not break loading.
    "s.ts": `
      const hasCaches = typeof caches !== "undefined";
      const Rewriter = HTMLRewriter;
      function attempt(run: () => unknown): string {
        try { run(); return "ok"; } catch (error) { return (error as Error).message; }
      }
      export default {
        async probe() {
          const started = Date.now();
          await scheduler.wait(20);
          const pair = new WebSocketPair();
          pair[1].accept();
          pair[1].close(4001, "nope");
          const response = new Response(null, { status: 101, webSocket: pair[0] });
          const match = new URLPattern({ pathname: "/parties/:party/:room" }).exec("http://x/parties/main/r1");
          return {
            waited: Date.now() - started >= 15,
            status: response.status,
            isResponse: response instanceof Response,
            fetched: (await fetch("data:text/plain,hi")) instanceof Response,
            // The bundle's fetch is the output-gated one (src/globals/outgoing-fetch.ts).
            heldFetch: fetch !== globalThis.fetch,
            webSocket: response.webSocket === pair[0],
            groups: match?.pathname.groups,
            userAgent: typeof navigator.userAgent,
            hasCaches,
            caches: attempt(() => caches.default.match("http://x/")),
            rewriter: attempt(() => new Rewriter()),
            badStatus: attempt(() => new Response(null, { status: 200, webSocket: new WebSocketPair()[0] } as ResponseInit)),
            plain: new Response("x", { status: 201 }).status,
            subclass: (() => {
              class Tagged extends Response {
                tag() {
                  return "tagged";
                }
              }
              const tagged = new Tagged("x", { status: 202 });
              return [tagged.tag?.(), tagged instanceof Response, tagged.status];
            })(),
            json: Response.json({ a: 1 }).headers.get("content-type"),
            sharedPrototype: Object.getPrototypeOf(new Response("x")) === Response.prototype,
            withoutNew: attempt(() => (Response as unknown as () => unknown)()).includes("without 'new'"),
          };
        },
      };
    `,
    "globals.d.ts": `
      declare class WebSocketPair { 0: WebSocket & { accept(): void }; 1: WebSocket & { accept(): void }; }
      declare const scheduler: { wait(ms: number): Promise<void> };
      declare const caches: { default: { match(url: string): Promise<Response | undefined> } };
      declare class HTMLRewriter {}
      declare class URLPattern { constructor(init: object); exec(url: string): { pathname: { groups: Record<string, string> } } | null; }
      interface ResponseInit { webSocket?: WebSocket }
      interface Response { webSocket?: WebSocket }
    `,
  });
  const config = await loadConfig({ cwd: project.dir, mode: "dev" });
  const result = await bundleProject(config, { outdir: join(project.dir, ".partyhouse/build"), host: "127.0.0.1:1" });
  const { main } = (await import(pathToFileURL(result.file).href)) as { main: { probe(): Promise<unknown> } };
  assert.deepEqual(await main.probe(), {
    waited: true,
    status: 101,
    isResponse: true,
    fetched: true,
    heldFetch: true,
    webSocket: true,
    groups: { party: "main", room: "r1" },
    userAgent: "string",
    hasCaches: true,
    caches: "caches (the Cloudflare Cache API) is not available on partyhouse (called caches.default.match())",
    rewriter: "HTMLRewriter is not available on partyhouse (it is part of the Cloudflare runtime)",
    badStatus: "Responses with a WebSocket must have status code 101.",
    plain: 201,
    subclass: ["tagged", true, 202],
    json: "application/json",
    sharedPrototype: true,
    withoutNew: true,
  });
  assert.equal((globalThis as { WebSocketPair?: unknown }).WebSocketPair, undefined, "the process's globals are untouched");
});
