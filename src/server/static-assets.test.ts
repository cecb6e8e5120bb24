import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { mkdtemp, mkdir, readdir, rm, writeFile, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { StaticAssets } from "./static-assets.js";
import type { StaticAssetsOptions } from "./options.js";
import { sendWebResponse, toWebRequest } from "./http-bridge.js";
import { routeOf } from "./route.js";

let dir: string;
let root: string;
const big = randomBytes(8 * 1024 * 1024 + 3);
const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2]);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "partyhouse-assets-"));
  root = join(dir, "public");
  const files: Record<string, string | Buffer> = {
    "index.html": "<h1>home</h1>",
    "404.html": "<h1>missing</h1>",
    "app.js": "console.log(1)",
    "style.css": "body{}",
    "data.json": '{"a":1}',
    "logo.svg": "<svg/>",
    "pic.png": png,
    "blob.xyz": "opaque",
    "with space.txt": "spaced",
    "ünïcode.txt": "unicode",
    "sub/index.html": "<h1>sub</h1>",
    "sub/page.html": "<h1>page</h1>",
    "big.bin": big,
    "empty.txt": "",
    ".env": "SECRET=dotfile",
    ".hidden/x.txt": "SECRET=hidden",
    "node_modules/pkg/index.js": "SECRET=module",
  };
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(root, name, ".."), { recursive: true });
    await writeFile(join(root, name), content);
  }
  await writeFile(join(dir, "secret.txt"), "SECRET=outside");
  await mkdir(join(dir, "public-evil"));
  await writeFile(join(dir, "public-evil", "x.txt"), "SECRET=sibling");
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Got {
  status: number;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

/**
 * Serves `assets` the way the front door does (asset, else /404.html, else plain 404) on a real
 * server for the duration of `body`.
 */
async function withAssets(options: Partial<StaticAssetsOptions>, body: (port: number, assets: StaticAssets) => Promise<void>) {
  const assets = new StaticAssets({ root, ...options });
  const server = createServer(async (req, res) => {
    try {
      const request = toWebRequest(req, {});
      const isPartyPath = routeOf(req.url ?? "/").kind === "room";
      const response =
        (await assets.match(request, { isPartyPath })) ??
        (await assets.notFound()) ??
        new Response("Not found", { status: 404 });
      await sendWebResponse(res, response, { head: req.method === "HEAD" });
    } catch (error) {
      res.writeHead(599).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await body((server.address() as AddressInfo).port, assets);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function get(port: number, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: options.method ?? "GET", headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** For request targets http.request would refuse to send (raw backslashes). */
function rawGet(port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () =>
      socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
    );
    let text = "";
    socket.on("data", (c) => (text += c.toString("latin1")));
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

test("files are served with type, length and body; a trailing slash means index.html", async () => {
  await withAssets({}, async (port) => {
    const cases: Array<[string, string, string | Buffer]> = [
      ["/", "text/html; charset=utf-8", "<h1>home</h1>"],
      ["/index.html", "text/html; charset=utf-8", "<h1>home</h1>"],
      ["/sub/", "text/html; charset=utf-8", "<h1>sub</h1>"],
      ["/sub/page.html", "text/html; charset=utf-8", "<h1>page</h1>"],
      ["/app.js", "text/javascript; charset=utf-8", "console.log(1)"],
      ["/style.css", "text/css; charset=utf-8", "body{}"],
      ["/data.json?cache=bust", "application/json; charset=utf-8", '{"a":1}'],
      ["/logo.svg", "image/svg+xml; charset=utf-8", "<svg/>"],
      ["/pic.png", "image/png", png],
      ["/blob.xyz", "application/octet-stream", "opaque"],
      ["/with%20space.txt", "text/plain; charset=utf-8", "spaced"],
      [`/${encodeURIComponent("ünïcode.txt")}`, "text/plain; charset=utf-8", "unicode"],
      ["/empty.txt", "text/plain; charset=utf-8", ""],
    ];
    for (const [path, type, content] of cases) {
      const got = await get(port, path);
      assert.equal(got.status, 200, path);
      assert.equal(got.headers["content-type"], type, path);
      assert.equal(got.headers["content-length"], String(Buffer.byteLength(content)), path);
      assert.deepEqual(got.body, Buffer.from(content), path);
    }
  });
});

test("a folder without a trailing slash is not an asset", async () => {
  await withAssets({}, async (port) => {
    const got = await get(port, "/sub");
    assert.equal(got.status, 404);
    assert.equal(got.body.toString(), "<h1>missing</h1>");
  });
});

test("HEAD sends the headers a GET would, without the body", async () => {
  await withAssets({}, async (port) => {
    for (const path of ["/app.js", "/big.bin"]) {
      const got = await get(port, path, { method: "HEAD" });
      assert.equal(got.status, 200);
      assert.equal(got.body.length, 0);
      assert.ok(got.headers.etag);
    }
    assert.equal((await get(port, "/app.js", { method: "HEAD" })).headers["content-length"], "14");
    assert.equal((await get(port, "/big.bin", { method: "HEAD" })).headers["content-length"], String(big.length));
  });
});

test("only GET and HEAD match", async () => {
  await withAssets({}, async (_port, assets) => {
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"]) {
      assert.equal(await assets.match(new Request("http://h/app.js", { method }), { isPartyPath: false }), null, method);
    }
  });
});

test("dotfiles, node_modules and anything outside the root are never served", async () => {
  await withAssets({}, async (port, assets) => {
    const paths = [
      "/.env",
      "/%2eenv",
      "/.hidden/x.txt",
      "/%2ehidden/x.txt",
      "/node_modules/pkg/index.js",
      "/node%5Fmodules/pkg/index.js",
      "/../secret.txt",
      "/%2e%2e/secret.txt",
      "/%2E%2E/secret.txt",
      "/..%2fsecret.txt",
      "/%2e%2e%2fsecret.txt",
      "/sub/..%2f..%2fsecret.txt",
      "/..%5csecret.txt",
      "/sub%5c..%5c..%5csecret.txt",
      "/..%2fpublic-evil/x.txt",
      "/%2e%2e%2fpublic-evil%2fx.txt",
      "/secret.txt%00",
      "/app.js%00.png",
      "//secret.txt",
    ];
    for (const path of paths) {
      const got = await get(port, path);
      assert.doesNotMatch(got.body.toString(), /SECRET/, path);
      assert.equal(got.status, 404, path);
    }
    for (const target of ["/..\\secret.txt", "/sub\\..\\..\\secret.txt", "/\\..\\secret.txt"]) {
      assert.doesNotMatch(await rawGet(port, target), /SECRET/, target);
    }
    // assets.fetch takes a path that no URL parser has normalised first.
    for (const path of ["/../secret.txt", "/sub/../../secret.txt", "/..%2fsecret.txt", "/.env", "/node_modules/pkg/index.js"]) {
      assert.equal(await assets.fetch(path), null, path);
    }
  });
});

test("malformed percent-encoding is a miss, not an error", async () => {
  await withAssets({}, async (port, assets) => {
    const got = await get(port, "/bad%E0%A4%A.js");
    assert.equal(got.status, 404);
    assert.equal(await assets.match(new Request("http://h/%zz"), { isPartyPath: false }), null);
    assert.equal(await assets.fetch("/%"), null);
  });
});

test("ETag and Last-Modified make revalidation a 304, and edits show up at once", async () => {
  const file = join(root, "edited.txt");
  await writeFile(file, "first version");
  await withAssets({}, async (port) => {
    const first = await get(port, "/edited.txt");
    const etag = first.headers.etag!;
    assert.match(etag, /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    assert.equal(first.headers["cache-control"], "no-cache");

    const revalidated = await get(port, "/edited.txt", { headers: { "if-none-match": etag } });
    assert.equal(revalidated.status, 304);
    assert.equal(revalidated.body.length, 0);
    assert.equal(revalidated.headers.etag, etag);

    const strongForm = await get(port, "/edited.txt", { headers: { "if-none-match": `"nope", ${etag.slice(2)}` } });
    assert.equal(strongForm.status, 304);
    assert.equal((await get(port, "/edited.txt", { headers: { "if-none-match": "*" } })).status, 304);
    assert.equal((await get(port, "/edited.txt", { headers: { "if-none-match": '"other"' } })).status, 200);

    const since = await get(port, "/edited.txt", { headers: { "if-modified-since": first.headers["last-modified"]! } });
    assert.equal(since.status, 304);
    const longAgo = await get(port, "/edited.txt", { headers: { "if-modified-since": new Date(0).toUTCString() } });
    assert.equal(longAgo.status, 200);

    // An edit (new size and mtime) is served on the next request, with a new ETag.
    await writeFile(file, "second, longer version");
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    const edited = await get(port, "/edited.txt", { headers: { "if-none-match": etag } });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.toString(), "second, longer version");
    assert.notEqual(edited.headers.etag, etag);
  });
});

test("browserTTL and edgeTTL set cache-control", async () => {
  await withAssets({ browserTTL: 60, edgeTTL: 3600 }, async (port) => {
    assert.equal((await get(port, "/app.js")).headers["cache-control"], "public, max-age=60, s-maxage=3600");
  });
  await withAssets({ browserTTL: 0, edgeTTL: null }, async (port) => {
    assert.equal((await get(port, "/app.js")).headers["cache-control"], "public, max-age=0");
  });
});

test("a large file streams whole", async () => {
  await withAssets({}, async (port) => {
    const got = await get(port, "/big.bin");
    assert.equal(got.status, 200);
    assert.equal(got.headers["content-type"], "application/octet-stream");
    assert.equal(got.headers["content-length"], String(big.length));
    assert.ok(got.body.equals(big));
  });
});

test("abandoned large downloads do not leak file descriptors", { skip: process.platform !== "linux" }, async () => {
  const openFds = async () => (await readdir("/proc/self/fd")).length;
  await withAssets({}, async (port) => {
    const baseline = await openFds();
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest({ host: "127.0.0.1", port, path: "/big.bin" }, (res) => {
          res.once("data", () => {
            req.destroy();
            resolve();
          });
        });
        req.on("error", () => {});
        req.end();
        setTimeout(() => reject(new Error("no data")), 2000);
      });
    }
    let now = await openFds();
    for (let waited = 0; now > baseline + 2 && waited < 2000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
      now = await openFds();
    }
    assert.ok(now <= baseline + 2, `${now - baseline} descriptors still open`);
  });
});

test("single-page apps get index.html for page loads that miss", async () => {
  const navigate = { "sec-fetch-mode": "navigate" };
  await withAssets({ singlePageApp: true }, async (port) => {
    const deepLink = await get(port, "/some/client/route", { headers: navigate });
    assert.equal(deepLink.status, 200);
    assert.equal(deepLink.body.toString(), "<h1>home</h1>");
    assert.equal(deepLink.headers["content-type"], "text/html; charset=utf-8");
    // Not a page load (fetch(), <script>): a real miss.
    assert.equal((await get(port, "/some/client/route")).status, 404);
    assert.equal((await get(port, "/missing.js", { headers: { "sec-fetch-mode": "no-cors" } })).status, 404);
    // Existing files still win.
    assert.equal((await get(port, "/app.js", { headers: navigate })).body.toString(), "console.log(1)");
    // Never a way around the dotfile rule.
    assert.equal((await get(port, "/.env", { headers: navigate })).body.toString(), "<h1>home</h1>");
  });
  await withAssets({ singlePageApp: false }, async (port) => {
    assert.equal((await get(port, "/some/client/route", { headers: navigate })).status, 404);
  });
});

test("on room paths the SPA fallback applies only to .html or typeless paths", async () => {
  await withAssets({ singlePageApp: true }, async (_port, assets) => {
    const navigate = (path: string) => new Request(`http://h${path}`, { headers: { "sec-fetch-mode": "navigate" } });
    const shell = async (path: string) => (await (await assets.match(navigate(path), { isPartyPath: true }))?.text()) ?? null;
    assert.equal(await shell("/parties/main/room"), "<h1>home</h1>");
    assert.equal(await shell("/party/room/page.html"), "<h1>home</h1>");
    assert.equal(await shell("/parties/main/room/"), "<h1>home</h1>");
    assert.equal(await shell("/parties/main/room/data.json"), null);
    assert.equal(await shell("/parties/main/room/app.js"), null);
  });
});

test("notFound serves /404.html with status 404, or null without one", async () => {
  const withPage = new StaticAssets({ root });
  const page = await withPage.notFound();
  assert.equal(page?.status, 404);
  assert.equal(await page?.text(), "<h1>missing</h1>");
  assert.equal(page?.headers.get("content-type"), "text/html; charset=utf-8");

  const without = new StaticAssets({ root: join(root, "sub") });
  assert.equal(await without.notFound(), null);
});

test("fetch looks up a path for room.context.assets", async () => {
  const assets = new StaticAssets({ root });
  const data = await assets.fetch("/data.json");
  assert.equal(data?.status, 200);
  assert.deepEqual(await data?.json(), { a: 1 });
  assert.equal(await (await assets.fetch("/sub/"))?.text(), "<h1>sub</h1>");
  assert.equal(await (await assets.fetch("/with%20space.txt?v=2"))?.text(), "spaced");
  assert.equal(await assets.fetch("/nope.txt"), null);
  await assert.rejects(assets.fetch("data.json"), { name: "TypeError", message: "Path must start with /" });
  await assert.rejects(assets.fetch("http://h/data.json"), TypeError);
});

test("a missing root folder is a miss everywhere, not an error", async () => {
  const assets = new StaticAssets({ root: join(dir, "does-not-exist"), singlePageApp: true });
  const request = new Request("http://h/x", { headers: { "sec-fetch-mode": "navigate" } });
  assert.equal(await assets.match(request, { isPartyPath: false }), null);
  assert.equal(await assets.notFound(), null);
  assert.equal(await assets.fetch("/index.html"), null);
});

test("symlinks are followed only while they stay inside the served folder", async () => {
  const { symlink } = await import("node:fs/promises");
  const linkRoot = join(dir, "linked");
  await mkdir(join(linkRoot, "inner"), { recursive: true });
  await writeFile(join(linkRoot, "inner", "ok.txt"), "inside");
  await symlink(join(dir, "secret.txt"), join(linkRoot, "leak.txt"));
  await symlink(dir, join(linkRoot, "up"));
  await symlink("/etc", join(linkRoot, "etc"));
  await symlink(join(linkRoot, "inner"), join(linkRoot, "alias"));
  await symlink(join(linkRoot, "inner", "ok.txt"), join(linkRoot, "same.js"));
  await withAssets({ root: linkRoot }, async (port, assets) => {
    for (const path of ["/leak.txt", "/up/secret.txt", "/up/public/index.html", "/etc/hostname", "/etc/passwd"]) {
      const got = await get(port, path);
      assert.equal(got.status, 404, path);
      assert.doesNotMatch(got.body.toString(), /SECRET|root:/, path);
      assert.equal(await assets.fetch(path), null, path);
    }
    const inside = await get(port, "/alias/ok.txt");
    assert.equal(inside.status, 200);
    assert.equal(inside.body.toString(), "inside");
    // The type comes from the name asked for, not the link's target.
    const renamed = await get(port, "/same.js");
    assert.equal(renamed.status, 200);
    assert.match(String(renamed.headers["content-type"]), /javascript/);
  });
});
