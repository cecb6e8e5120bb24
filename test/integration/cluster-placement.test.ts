/**
 * Cluster mode end to end (issue 19, item 5): placement follows the load balancer. A room nobody
 * holds is claimed by the node a client reached, over HTTP or WebSocket, whatever the
 * rendezvous hash prefers; a room first reached through another room's stub keeps the
 * deterministic choice (its rendezvous-preferred node). Bounded: lease 3 s.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { WebSocket } from "ws";
import { preferredNode } from "../../src/cluster/rendezvous.js";
import { cluster, opened, ownerOf, roomFetch } from "./cluster-support.js";

test("a room nobody holds is claimed by the node the client reached; a stub's room by its preferred node", async () => {
  const { db, nodes } = await cluster(3);
  for (let i = 0; i < 9; i++) {
    const via = nodes[i % 3]!;
    const response = await roomFetch(via.address, `/parties/main/reached-${i}`);
    assert.equal(await response.text(), via.name, `reached-${i} runs where the client arrived`);
    assert.equal((await ownerOf(db, `reached-${i}`)).node, via.address);
  }
  for (const via of nodes) {
    const ws = new WebSocket(`ws://${via.address}/parties/main/socket-${via.name}`);
    const hello = new Promise<string>((resolve) => ws.once("message", (data) => resolve(String(data))));
    await opened(ws);
    assert.equal(await hello, `hello from ${via.name}`);
    assert.equal((await ownerOf(db, `socket-${via.name}`)).node, via.address);
    ws.close();
  }
  // Asked for again through another node, a held room stays where it is (forwarded).
  const again = await roomFetch(nodes[1]!.address, "/parties/main/reached-0");
  assert.equal(await again.text(), nodes[0]!.name);

  const ids = nodes.map((node) => node.address);
  for (let i = 0; i < 6; i++) {
    const target = `called-${i}`;
    const response = await roomFetch(nodes[0]!.address, `/parties/main/reached-0?call=${target}`);
    assert.equal(response.status, 200, await response.clone().text());
    await response.arrayBuffer();
    assert.equal((await ownerOf(db, target)).node, preferredNode(ids, "main", target), `${target}: the stub's room on its preferred node`);
  }
});
