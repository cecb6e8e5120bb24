import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { request } from "node:http";
import { startTestServer, type TestServer } from "../testing/index.js";
import { startPartyhouse } from "../server/index.js";
import { createStorageService } from "../storage/index.js";
import { silentLogger } from "../runtime/logger.js";
import { Notes, getJson } from "./test-support.js";
import { AdminListener } from "./server.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A raw GET, so the Host header can be anything. */
function rawGet(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("admin listener", () => {
  it("answers health, readiness and metrics on its own port, bound to 127.0.0.1", async () => {
    const s = (server = await startTestServer({ parties: Notes, memory: true, admin: { port: 0 } }));
    const admin = s.server.adminUrl!;
    assert.match(admin, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(new URL(admin).port, String(s.port));
    assert.deepEqual(await getJson(`${admin}/healthz`), { status: 200, body: "ok: serving\n" });
    const ready = await getJson(`${admin}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(ready.body, "ok: serving; storage open (memory)\n");
    const metrics = await fetch(`${admin}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get("content-type")!, /text\/plain/);
    assert.match(await metrics.text(), /^# HELP partyhouse_rooms /m);
  });

  it("exposes nothing of itself through the public port", async () => {
    const s = (server = await startTestServer({ parties: Notes, memory: true, admin: { port: 0 } }));
    for (const path of ["/healthz", "/readyz", "/metrics", "/api/parties", "/inspector.js"]) {
      const response = await s.fetch(path);
      assert.equal(response.status, 404, path);
      assert.doesNotMatch(await response.text(), /partyhouse_|parties|serving/);
    }
  });

  it("readyz answers 503 with the reason once storage is closed", async () => {
    const storage = await createStorageService({ kind: "memory" });
    const running = await startPartyhouse({ parties: { main: Notes }, storage, port: 0, logger: silentLogger, admin: new AdminListener({ port: 0 }) });
    try {
      await storage.close();
      assert.deepEqual(await getJson(`${running.adminUrl}/readyz`), { status: 503, body: "not ready: storage is closed\n" });
    } finally {
      await running.close();
    }
  });

  it("extra readiness sources (a cluster node) make readyz 503 with their reason", async () => {
    let leaseHeld = true;
    const node = { ready: () => (leaseHeld ? { ok: true, reason: "lease held" } : { ok: false, reason: "lease lost" }) };
    const s = (server = await startTestServer({ parties: Notes, memory: true, admin: { port: 0, readiness: [node] } }));
    const admin = s.server.adminUrl!;
    assert.equal((await getJson(`${admin}/readyz`)).body, "ok: serving; storage open (memory); lease held\n");
    leaseHeld = false;
    assert.deepEqual(await getJson(`${admin}/readyz`), { status: 503, body: "not ready: lease lost\n" });
    assert.equal((await getJson(`${admin}/healthz`)).status, 200, "healthz only says the process serves");
  });

  it("with a token, /metrics and /api need it as a bearer token; probes and the page do not", async () => {
    const token = "s3cret-token-0123456789";
    const s = (server = await startTestServer({ parties: Notes, memory: true, admin: { port: 0, token } }));
    const admin = s.server.adminUrl!;
    for (const path of ["/metrics", "/api/parties"]) {
      assert.equal((await fetch(admin + path)).status, 401, path);
      assert.equal((await fetch(admin + path, { headers: { authorization: "Bearer wrong-token-0123456789" } })).status, 401);
      assert.equal((await fetch(admin + path, { headers: { authorization: `Bearer ${token}x` } })).status, 401);
      assert.equal((await fetch(admin + path, { headers: { authorization: `Bearer ${token}` } })).status, 200, path);
    }
    assert.equal((await fetch(`${admin}/healthz`)).status, 200);
    assert.equal((await fetch(`${admin}/readyz`)).status, 200);
    assert.equal((await fetch(`${admin}/`)).status, 200);
  });

  it("refuses to bind off loopback without a token, with one clear line", async () => {
    await assert.rejects(
      startTestServer({ parties: Notes, memory: true, admin: { port: 0, host: "0.0.0.0" } }),
      /the admin listener on 0\.0\.0\.0 is reachable from other machines and needs a token: pass --admin-token <token> or set PARTYHOUSE_ADMIN_TOKEN/,
    );
    await assert.rejects(startTestServer({ parties: Notes, memory: true, admin: { port: 0, token: "short" } }), /at least 16 characters/);
  });

  it("binds off loopback with a token", async () => {
    const token = "another-secret-0123456789";
    const s = (server = await startTestServer({ parties: Notes, memory: true, admin: { port: 0, host: "0.0.0.0", token } }));
    const port = new URL(s.server.adminUrl!).port;
    const response = await fetch(`http://127.0.0.1:${port}/api/parties`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200);
  });

  it("without a token, a DNS name in Host (a rebinding web page) is refused", async () => {
    const s = (server = await startTestServer({ parties: Notes, memory: true, admin: { port: 0 } }));
    const admin = s.server.adminUrl!;
    assert.equal(await rawGet(`${admin}/api/parties`, "evil.example:80"), 403);
    assert.equal(await rawGet(`${admin}/api/parties`, `localhost:${new URL(admin).port}`), 200);
    assert.equal(await rawGet(`${admin}/api/parties`, `127.0.0.1:${new URL(admin).port}`), 200);
  });

  it("rejects other methods", async () => {
    const s = (server = await startTestServer({ parties: Notes, memory: true, admin: { port: 0 } }));
    const response = await fetch(`${s.server.adminUrl}/api/parties`, { method: "POST" });
    assert.equal(response.status, 405);
  });
});
