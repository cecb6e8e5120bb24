/**
 * Cluster mode end to end (issue 19, item 1): /readyz of a `partyhouse start --cluster` node says
 * what holds now. Cut off from PostgreSQL it turns 503 without any traffic, stays 503 while
 * fenced, and turns 200 again by itself once the database is back, even after a commit failed
 * meanwhile (behind a load balancer no traffic would come to clear it). Bounded: lease 3 s.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { freePort } from "../../src/cli/test-support.js";
import { LEASE_MS, proxiedDatabase, roomFetch, startNode, waitFor, waitForAsync } from "./cluster-support.js";

test("/readyz: 503 while the node is cut off from PostgreSQL or fenced, 200 again by itself once it is back", async () => {
  const { url, proxy } = await proxiedDatabase();
  const adminPort = await freePort();
  const node = await startNode("solo", url, undefined, ["--admin-port", String(adminPort)]);
  let last = "";
  const readyz = async (): Promise<number> => {
    const response = await fetch(`http://127.0.0.1:${adminPort}/readyz`, { signal: AbortSignal.timeout(5_000) });
    last = await response.text();
    return response.status;
  };
  assert.ok(await waitForAsync(async () => (await readyz()) === 200, 5_000), `ready after start: ${last}`);
  assert.match(last, /cluster lease held/);
  const stored = await roomFetch(node.address, "/parties/main/r", { method: "POST", body: JSON.stringify({ key: "a", value: "1" }) });
  assert.equal(stored.status, 200);
  await stored.arrayBuffer();

  await proxy.stop();
  // No request reaches a room: the failing renewals alone make the node unready, within two
  // renewal periods (lease / 5 = 600 ms here), before the lease is lost.
  const cutAt = Date.now();
  assert.ok(await waitForAsync(async () => (await readyz()) === 503, LEASE_MS), `unready while cut off: ${last}`);
  assert.ok(Date.now() - cutAt < LEASE_MS, `${Date.now() - cutAt} ms`);
  // A write that cannot commit (its failure used to keep /readyz at 503 until a later commit).
  const failed = await fetch(`http://${node.address}/parties/main/r`, {
    method: "POST",
    body: JSON.stringify({ key: "b", value: "2" }),
    signal: AbortSignal.timeout(15_000),
  });
  await failed.arrayBuffer();
  assert.ok(await waitFor(() => /cluster node fenced itself/.test(node.server.output()), LEASE_MS + 2_000), "the node fenced itself");
  assert.equal(await readyz(), 503, "a fenced node is not ready");

  await proxy.start();
  // From here on nothing but /readyz reaches the node.
  assert.ok(await waitForAsync(async () => (await readyz()) === 200, 10_000), `ready again by itself: ${last}`);
  assert.match(last, /cluster lease held/);
});
