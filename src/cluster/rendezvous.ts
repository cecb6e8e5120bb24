/**
 * Rendezvous (highest-random-weight) hashing: every node scores (node, room) and the highest
 * score wins. When a node joins or leaves, only the rooms it wins or won move. A load balancer
 * that hashes `/parties/:party/:room` the same way lands most clients on the owner.
 */
import { createHash } from "node:crypto";

export function rendezvousScore(nodeId: string, party: string, room: string): bigint {
  const digest = createHash("sha256").update(nodeId).update("\0").update(party).update("\0").update(room).digest();
  return digest.readBigUInt64BE(0);
}

/** The preferred node among `nodeIds` (undefined when there are none). */
export function preferredNode(nodeIds: Iterable<string>, party: string, room: string): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const nodeId of nodeIds) {
    const score = rendezvousScore(nodeId, party, room);
    // Ties (astronomically unlikely) go to the smaller id, so every node picks the same one.
    if (score > bestScore || (score === bestScore && best !== undefined && nodeId < best)) {
      best = nodeId;
      bestScore = score;
    }
  }
  return best;
}
