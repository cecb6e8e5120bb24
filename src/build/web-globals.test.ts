import assert from "node:assert/strict";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import "../globals/registry.js";
import "../server/lazy-response.js";
import { LazyRequest } from "../server/lazy-request.js";
import { loadConfig } from "../config/load.js";
import { tempProjects } from "../config/test-support.js";
import { silentLogger } from "../runtime/logger.js";
import { startPartyhouse } from "../server/index.js";
import { createStorageService } from "../storage/index.js";
import { bundleProject } from "./bundle.js";

const tempProject = tempProjects();

test("a bundled party handles its LazyRequest as an undici Request: instanceof, new Request(req), subclasses, fetch(req), hooks", async () => {
  const project = await tempProject({
    "partykit.json": JSON.stringify({ main: "s.ts" }),
    "s.ts": `
      class Tagged extends Request {}
      export default class Main {
        static onBeforeRequest(req: Request) {
          if (!new URL(req.url).searchParams.has("hook")) return;
          const changed = new Request(req);
          changed.headers.set("x-hooked", req instanceof Request ? "saw a Request" : "saw something else");
          return changed;
        }
        async onRequest(req: Request) {
          // For the test: which kind of request the party was handed.
          (globalThis as { lastPartyRequest?: Request }).lastPartyRequest = req;
          const copy = new Request(req);
          const moved = new Request("http://elsewhere.invalid/x", req);
          // The client sent the upstream's address as Host, so req.url names the upstream.
          const upstream = await fetch(req);
          return Response.json({
            instance: req instanceof Request,
            constructor: req.constructor === Request,
            tagged: new Tagged(req) instanceof Tagged,
            copy: [copy.method, copy.url, copy.headers.get("x-client")],
            moved: [moved.method, moved.url],
            clone: req.clone().url === req.url,
            hooked: req.headers.get("x-hooked"),
            upstream: await upstream.text(),
          });
        }
      }
    `,
  });
  const config = await loadConfig({ cwd: project.dir, mode: "dev" });
  const bundle = await bundleProject(config, { outdir: join(project.dir, ".partyhouse/build"), host: "127.0.0.1:1" });
  const parties = (await import(pathToFileURL(bundle.file).href)) as Record<string, unknown>;

  const upstreamSaw: string[] = [];
  const upstream = createServer((req, res) => {
    upstreamSaw.push(`${req.method} ${req.url} x-client=${req.headers["x-client"]}`);
    res.end("from upstream");
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const upstreamHost = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const storage = await createStorageService({ kind: "memory" });
  const server = await startPartyhouse({ parties, storage, port: 0, logger: silentLogger, lazyRequests: true });
  try {
    // node:http, because fetch() sends its own Host.
    const ask = (path: string) =>
      new Promise<unknown>((resolve, reject) => {
        const headers = { host: upstreamHost, "x-client": "c1" };
        const sent = request({ host: "127.0.0.1", port: server.port, method: "DELETE", path, headers }, (response) => {
          let body = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => (body += chunk));
          response.on("end", () => (response.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${response.statusCode}: ${body}`))));
        });
        sent.on("error", reject);
        sent.end();
      });
    const url = `http://${upstreamHost}/parties/main/r1`;
    assert.deepEqual(await ask("/parties/main/r1"), {
      instance: true,
      constructor: true,
      tagged: true,
      copy: ["DELETE", url, "c1"],
      moved: ["DELETE", "http://elsewhere.invalid/x"],
      clone: true,
      hooked: null,
      upstream: "from upstream",
    });
    assert.ok(LazyRequest.isLazy((globalThis as { lastPartyRequest?: unknown }).lastPartyRequest), "the party got a LazyRequest");
    const hooked = (await ask("/parties/main/r1?hook")) as { hooked: string };
    assert.equal(hooked.hooked, "saw a Request");
    assert.deepEqual(upstreamSaw, ["DELETE /parties/main/r1 x-client=c1", "DELETE /parties/main/r1?hook x-client=c1"]);
  } finally {
    await server.close();
    await storage.close();
    upstream.close();
  }
});
