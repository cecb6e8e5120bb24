import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import type * as Party from "../types/party.js";
import { INTERNAL_HEADER } from "../server/internal-auth.js";
import { PEER_LINK_UPGRADE } from "../server/room-router.js";
import { readPeerTls, type PeerTls } from "./peer-tls.js";
import { startTestCluster, type TestCluster } from "./test-cluster.js";

/**
 * Mutual TLS between nodes, with throw-away CAs made by the `openssl` CLI in a temporary folder
 * (node:crypto cannot issue X.509 certificates). Nodes a and b hold certificates of the cluster's
 * CA; c holds one of another CA (and trusts the cluster's); d runs without TLS. Room r lives on a.
 */
class Room implements Party.Server {
  constructor(readonly room: Party.Room) {}
  async onRequest(req: Party.Request) {
    return Response.json({ node: this.room.env.NODE, body: req.method === "GET" ? null : await req.text() });
  }
  onMessage(message: string, connection: Party.Connection) {
    connection.send(`${String(this.room.env.NODE)}:${message}`);
  }
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
}

/**
 * A CA (`<ca>.crt`/`.key`) and one certificate it signed for each node name; each node trusts
 * `trusts` (by default that CA).
 */
function issue(dir: string, ca: string, nodes: readonly string[], trusts = ca): Record<string, PeerTls> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(dir, "req", "-x509", ...ec, "-keyout", `${ca}.key`, "-out", `${ca}.crt`, "-days", "1", "-subj", `/CN=${ca}`);
  const issued: Record<string, PeerTls> = {};
  for (const node of nodes) {
    openssl(dir, "req", ...ec, "-keyout", `${node}.key`, "-out", `${node}.csr`, "-subj", `/CN=${node}`);
    openssl(dir, "x509", "-req", "-in", `${node}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${node}.crt`, "-days", "1");
    issued[node] = readPeerTls({ cert: join(dir, `${node}.crt`), key: join(dir, `${node}.key`), ca: join(dir, `${trusts}.crt`) });
  }
  return issued;
}

describe("TLS between nodes", () => {
  let dir: string;
  let cluster: TestCluster;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "partyhouse-peer-tls-"));
    // c trusts the cluster's CA, so only the owner's check of c's certificate can refuse it.
    const tls = { ...issue(dir, "cluster-ca", ["a", "b"]), ...issue(dir, "other-ca", ["c"], "cluster-ca") };
    cluster = await startTestCluster(["a", "b", "c", "d"], { main: Room }, { tls });
    cluster.table.assign({ party: "main", room: "r" }, "a");
  });
  after(async () => {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("forwards HTTP, streamed bodies and WebSockets between nodes of the cluster's CA", async () => {
    const plain = await (await cluster.nodes.b!.fetch("/parties/main/r")).json();
    assert.equal(plain.node, "a");
    const big = "x".repeat(3 * 1024 * 1024); // over the replay limit: streamed on the link
    const streamed = await (await cluster.nodes.b!.fetch("/parties/main/r", { method: "POST", body: big })).json();
    assert.equal(streamed.body.length, big.length);

    const ws = new WebSocket(`ws://127.0.0.1:${cluster.nodes.b!.port}/parties/main/r`);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    ws.send("hi");
    const reply = await new Promise<string>((resolve) => ws.once("message", (data) => resolve(String(data))));
    assert.equal(reply, "a:hi");
    ws.close();
  });

  it("refuses a node whose certificate another CA signed", async () => {
    const answer = await cluster.nodes.c!.fetch("/parties/main/r");
    assert.equal(answer.status, 503);
    assert.ok(
      cluster.logs.some((entry) => entry.node === "a" && entry.event === "a peer's TLS handshake failed"),
      "the owner refused c's certificate",
    );
  });

  it("refuses a node without TLS, and a plaintext link even with the secret", async () => {
    const answer = await cluster.nodes.d!.fetch("/parties/main/r");
    assert.equal(answer.status, 503);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({
        host: "127.0.0.1",
        port: cluster.nodes.a!.port,
        headers: { connection: "Upgrade", upgrade: PEER_LINK_UPGRADE, [INTERNAL_HEADER]: cluster.table.secret },
      });
      req.on("upgrade", (_res, socket) => {
        socket.destroy();
        resolve(101);
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(status, 403);
  });
});
