/**
 * For tests and the forwarding bench (not shipped): a Placement without a database. One table of
 * nodes and room owners, shared by the nodes of one process (tests) or loaded from a JSON file by
 * each node (benchmarks, whose spec assigns every room it uses). It claims like the others: a room
 * nobody holds is claimed by the node that asks `acquire`, a room held by another node is remote
 * there, and each claim has a larger epoch. No leases and no fencing (they need the shared
 * database): a room is lost only when `assign` gives it to another node.
 */
import { createHash } from "node:crypto";
import type { RoomRef } from "../storage/engine.js";
import { roomKey, type RoomKey } from "../storage/room-key.js";
import type { AlarmSource, Placement, RoomLocation } from "../runtime/placement.js";

interface NodeEntry {
  address: string | undefined;
  draining: boolean;
  readonly lost: Array<(room: RoomRef) => void>;
}

interface Owner {
  readonly nodeId: string;
  readonly epoch: number;
  /** False for a room handed to `nodeId` that it has not claimed yet (its claim takes a new epoch). */
  readonly claimed: boolean;
}

/** The file form: `{ "secret": "...", "nodes": { "a": "127.0.0.1:4001" }, "rooms": { "main/r1": "a" } }`. */
export interface StaticClusterSpec {
  secret: string;
  nodes: Record<string, string>;
  rooms?: Record<string, string>;
}

export class StaticCluster {
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly owners = new Map<RoomKey, Owner>();
  private epochs = 0;

  constructor(readonly secret: string) {}

  static fromSpec(spec: StaticClusterSpec): StaticCluster {
    const cluster = new StaticCluster(spec.secret);
    for (const [id, address] of Object.entries(spec.nodes)) cluster.setAddress(id, address);
    for (const [key, nodeId] of Object.entries(spec.rooms ?? {})) {
      const slash = key.indexOf("/");
      if (slash < 1) throw new Error(`room key "${key}" must be "party/room"`);
      cluster.assign({ party: key.slice(0, slash), room: key.slice(slash + 1) }, nodeId);
    }
    return cluster;
  }

  /** Where a node listens (host:port); a node without an address is never preferred. */
  setAddress(nodeId: string, address: string): void {
    this.entry(nodeId).address = address;
  }

  /** The placement one node sees. */
  directory(nodeId: string): StaticDirectory {
    this.entry(nodeId);
    return new StaticDirectory(this, nodeId);
  }

  /** Gives the room to `nodeId` (a new claim); a previous owner is told it lost the room (as after a takeover). */
  assign(ref: RoomRef, nodeId: string): void {
    const key = roomKey(ref);
    const previous = this.owners.get(key);
    this.owners.set(key, { nodeId, epoch: ++this.epochs, claimed: true });
    if (previous && previous.nodeId !== nodeId) {
      for (const listener of this.nodes.get(previous.nodeId)?.lost ?? []) listener({ party: ref.party, room: ref.room });
    }
  }

  ownerOf(ref: RoomRef): string | undefined {
    return this.owners.get(roomKey(ref))?.nodeId;
  }

  /**
   * @internal for StaticDirectory: the edge's question. Only the rendezvous-preferred node claims
   * a room nobody holds, whoever's client asks (this directory ignores `claimHere`).
   */
  locateFor(nodeId: string, ref: RoomRef): RoomLocation {
    if (this.owners.get(roomKey(ref)) === undefined) {
      const preferred = this.preferred(roomKey(ref));
      if (preferred === undefined) throw new Error("no node can take the room (all draining)");
      // Others send the request there, and it claims on arrival.
      if (preferred !== nodeId) return this.remote(preferred);
    }
    return this.acquireFor(nodeId, ref);
  }

  /** @internal: the runtime's claim: here unless another node holds it; a draining node claims nothing. */
  acquireFor(nodeId: string, ref: RoomRef): RoomLocation {
    const key = roomKey(ref);
    let owner = this.owners.get(key);
    if (owner === undefined && this.entry(nodeId).draining) {
      const preferred = this.preferred(key);
      if (preferred === undefined) throw new Error("no node can take the room (all draining)");
      return this.remote(preferred);
    }
    if (owner === undefined || (owner.nodeId === nodeId && !owner.claimed)) {
      owner = { nodeId, epoch: ++this.epochs, claimed: true };
      this.owners.set(key, owner);
    }
    return owner.nodeId === nodeId ? { kind: "local", epoch: owner.epoch } : this.remote(owner.nodeId);
  }

  /** @internal */
  releaseFor(nodeId: string, ref: RoomRef): void {
    const key = roomKey(ref);
    if (this.holds(nodeId, ref)) this.owners.delete(key);
  }

  /** @internal: whether the node claimed the room and still holds it. */
  holds(nodeId: string, ref: RoomRef): boolean {
    const owner = this.owners.get(roomKey(ref));
    return owner !== undefined && owner.nodeId === nodeId && owner.claimed;
  }

  /** @internal: the room goes to `to` if it can take rooms (a new claim), else to nobody. */
  handOffFor(nodeId: string, ref: RoomRef, to: string): void {
    const key = roomKey(ref);
    const owner = this.owners.get(key);
    if (owner === undefined || !this.holds(nodeId, ref)) return;
    const target = this.nodes.get(to);
    if (target === undefined || target.draining || target.address === undefined) this.owners.delete(key);
    else this.owners.set(key, { nodeId: to, epoch: owner.epoch, claimed: false });
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
 * One node's view. Remote answers of `locate` are cached, as a real directory's route cache
 * would be, so a move is noticed the way it is in production: the old owner answers "moved", the
 * edge calls `invalidate` and asks again.
 */
export class StaticDirectory implements Placement {
  readonly alarms: AlarmSource = { kind: "storage" };
  private readonly cache = new Map<RoomKey, RoomLocation>();
  /** Releases and hand-offs in progress: claims and locates of the room wait for them. */
  private readonly leaving = new Map<RoomKey, Promise<void>>();

  constructor(
    private readonly cluster: StaticCluster,
    readonly nodeId: string,
  ) {}

  get secret(): string {
    return this.cluster.secret;
  }

  async locate(ref: RoomRef): Promise<RoomLocation> {
    const key = roomKey(ref);
    await this.leaving.get(key);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const location = this.cluster.locateFor(this.nodeId, ref);
    if (location.kind === "remote") this.cache.set(key, location);
    return location;
  }

  async acquire(ref: RoomRef): Promise<RoomLocation> {
    await this.leaving.get(roomKey(ref));
    return this.cluster.acquireFor(this.nodeId, ref);
  }

  invalidate(ref: RoomRef): void {
    this.cache.delete(roomKey(ref));
  }

  release(ref: RoomRef, closed: Promise<void>): Promise<void> {
    return this.leave(ref, closed.catch(() => undefined).then(() => this.cluster.releaseFor(this.nodeId, ref)));
  }

  handOff(ref: RoomRef, to: string, drop: () => Promise<void>): Promise<void> {
    const key = roomKey(ref);
    if (this.leaving.has(key) || !this.cluster.holds(this.nodeId, ref)) return Promise.resolve();
    return this.leave(ref, drop().then(() => this.cluster.handOffFor(this.nodeId, ref, to)));
  }

  onLost(listener: (room: RoomRef) => void): void {
    this.cluster.entry(this.nodeId).lost.push(listener);
  }

  async drain(): Promise<void> {
    this.cluster.entry(this.nodeId).draining = true;
  }

  holdsLease(): boolean {
    return true;
  }

  /** Marks the room as leaving this node until `work` settles. */
  private leave(ref: RoomRef, work: Promise<void>): Promise<void> {
    const key = roomKey(ref);
    // Settles either way: a failed drop leaves the room to whoever claims it next.
    const done = work.catch(() => undefined).finally(() => {
      if (this.leaving.get(key) === done) this.leaving.delete(key);
    });
    this.leaving.set(key, done);
    return done;
  }
}
