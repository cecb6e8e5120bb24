/**
 * A RoomDirectory without a database: one table of nodes and room owners, shared by the nodes
 * of one process (tests) or loaded from a JSON file by each node (benchmarks). It is a real,
 * small implementation of the interface — rooms are claimed on first use by the rendezvous-
 * preferred node, released, moved (which tells the old owner it lost the room) and drained —
 * without leases or fencing, which need the shared database (src/cluster on PostgreSQL).
 */
import { createHash } from "node:crypto";
import type { RoomDirectory, RoomLocation } from "./directory.js";

/** The directory side of a graceful drain: this node stops claiming rooms. */
export interface DrainableDirectory extends RoomDirectory {
  drain(): Promise<void>;
}

interface NodeEntry {
  address: string | undefined;
  draining: boolean;
  readonly lost: Array<(party: string, room: string) => void>;
}

interface Owner {
  readonly nodeId: string;
  readonly epoch: number;
}

/** The file form: `{ "secret": "...", "nodes": { "a": "127.0.0.1:4001" }, "rooms": { "main/r1": "a" } }`. */
export interface StaticClusterSpec {
  secret: string;
  nodes: Record<string, string>;
  rooms?: Record<string, string>;
}

export class StaticCluster {
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly owners = new Map<string, Owner>();
  private epochs = 0;

  constructor(readonly secret: string) {}

  static fromSpec(spec: StaticClusterSpec): StaticCluster {
    const cluster = new StaticCluster(spec.secret);
    for (const [id, address] of Object.entries(spec.nodes)) cluster.setAddress(id, address);
    for (const [key, nodeId] of Object.entries(spec.rooms ?? {})) {
      const slash = key.indexOf("/");
      if (slash < 1) throw new Error(`room key "${key}" must be "party/room"`);
      cluster.assign(key.slice(0, slash), key.slice(slash + 1), nodeId);
    }
    return cluster;
  }

  /** Where a node listens (host:port); a node without an address is never preferred. */
  setAddress(nodeId: string, address: string): void {
    this.entry(nodeId).address = address;
  }

  /** The directory one node sees. */
  directory(nodeId: string): DrainableDirectory {
    this.entry(nodeId);
    return new StaticDirectory(this, nodeId);
  }

  /** Gives the room to `nodeId`; a previous owner is told it lost the room (as after a takeover). */
  assign(party: string, room: string, nodeId: string): void {
    const key = keyOf(party, room);
    const previous = this.owners.get(key);
    this.owners.set(key, { nodeId, epoch: ++this.epochs });
    if (previous && previous.nodeId !== nodeId) {
      for (const listener of this.nodes.get(previous.nodeId)?.lost ?? []) listener(party, room);
    }
  }

  ownerOf(party: string, room: string): string | undefined {
    return this.owners.get(keyOf(party, room))?.nodeId;
  }

  /** @internal for StaticDirectory */
  locateFor(nodeId: string, party: string, room: string): RoomLocation {
    const key = keyOf(party, room);
    let owner = this.owners.get(key);
    if (owner === undefined) {
      const preferred = this.preferred(key);
      if (preferred === undefined) throw new Error("no node can take the room (all draining)");
      // Only the preferred node claims; others send the request there and it claims on arrival.
      if (preferred !== nodeId) return this.remote(preferred);
      owner = { nodeId, epoch: ++this.epochs };
      this.owners.set(key, owner);
    }
    return owner.nodeId === nodeId ? { kind: "local", epoch: owner.epoch } : this.remote(owner.nodeId);
  }

  /** @internal */
  releaseFor(nodeId: string, party: string, room: string): void {
    const key = keyOf(party, room);
    if (this.owners.get(key)?.nodeId === nodeId) this.owners.delete(key);
  }

  /** @internal */
  entry(nodeId: string): NodeEntry {
    let entry = this.nodes.get(nodeId);
    if (!entry) {
      entry = { address: undefined, draining: false, lost: [] };
      this.nodes.set(nodeId, entry);
    }
    return entry;
  }

  private remote(nodeId: string): RoomLocation {
    const address = this.nodes.get(nodeId)?.address;
    if (address === undefined) throw new Error(`node ${nodeId} has no address`);
    return { kind: "remote", nodeId, address };
  }

  /** Rendezvous hashing over the nodes that can take rooms: stable as nodes come and go. */
  private preferred(key: string): string | undefined {
    let best: string | undefined;
    let bestScore = -1;
    for (const [id, node] of this.nodes) {
      if (node.draining || node.address === undefined) continue;
      const score = createHash("sha256").update(id).update("\0").update(key).digest().readUIntBE(0, 6);
      if (score > bestScore) {
        best = id;
        bestScore = score;
      }
    }
    return best;
  }
}

/**
 * One node's view. Remote answers are cached, as a real directory's route cache would be, so a
 * move is noticed the way it is in production: the old owner answers "moved", the edge calls
 * `invalidate` and asks again.
 */
class StaticDirectory implements DrainableDirectory {
  private readonly cache = new Map<string, RoomLocation>();

  constructor(
    private readonly cluster: StaticCluster,
    readonly nodeId: string,
  ) {}

  get secret(): string {
    return this.cluster.secret;
  }

  async locate(party: string, room: string): Promise<RoomLocation> {
    const key = keyOf(party, room);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const location = this.cluster.locateFor(this.nodeId, party, room);
    if (location.kind === "remote") this.cache.set(key, location);
    return location;
  }

  invalidate(party: string, room: string): void {
    this.cache.delete(keyOf(party, room));
  }

  async release(party: string, room: string): Promise<void> {
    this.cluster.releaseFor(this.nodeId, party, room);
  }

  onLost(listener: (party: string, room: string) => void): void {
    this.cluster.entry(this.nodeId).lost.push(listener);
  }

  async drain(): Promise<void> {
    this.cluster.entry(this.nodeId).draining = true;
  }
}

function keyOf(party: string, room: string): string {
  return `${party}/${room}`;
}
