/**
 * Room ownership on PostgreSQL (spec §5.6 c): who runs each room, cluster-wide.
 *
 * - `locate` (the edge's question): a room this node owns is local; a room a live node owns
 *   is remote; a room nobody live holds is claimed here when rendezvous hashing over the live,
 *   non-draining nodes prefers this node, else it is remote at the preferred node, *without*
 *   claiming: that node claims it when the forwarded request arrives (its `acquire`).
 * - `acquire` (the runtime's, before building an instance): claims here unless a live node holds
 *   the room, whatever the preference, so forwarded requests and alarms never bounce.
 * - A claim is one conditional statement that bumps the epoch (see CLAIM_SQL); instances are
 *   built only after it committed.
 */
import type pg from "pg";
import type { RoomRef } from "../storage/engine.js";
import type { Acquired, RoomOwnership } from "../runtime/ownership.js";
import type { Logger } from "../runtime/logger.js";
import { describeError } from "../runtime/logger.js";
import type { RoomDirectory, RoomLocation } from "./directory.js";
import type { Membership } from "./membership.js";
import { preferredNode } from "./rendezvous.js";

/**
 * Insert the room owned by me at epoch 1, or take it over (epoch + 1) only if it was released,
 * is mine already (a previous instance here), or its owner's lease expired / incarnation
 * changed — judged by the database clock. The conflicting row is locked by ON CONFLICT, which
 * conflicts with the FOR SHARE fence of the old owner's commits, so a commit in flight finishes
 * first and any later one is refused. The owner's ph_nodes row is read FOR SHARE, so a renewal
 * committing right now is waited for and re-checked instead of overtaken. A claimant whose own
 * lease has expired inserts nothing and takes nothing.
 */
const CLAIM_SQL = `
INSERT INTO ph_rooms AS r (party, room, owner_node, owner_incarnation, owner_epoch, claimed_at)
SELECT $1, $2, $3, $4, 1, now()
WHERE EXISTS (SELECT 1 FROM ph_nodes me WHERE me.node_id = $3 AND me.incarnation = $4 AND me.lease_expires_at > now())
ON CONFLICT (party, room) DO UPDATE
SET owner_node = excluded.owner_node, owner_incarnation = excluded.owner_incarnation,
    owner_epoch = r.owner_epoch + 1, claimed_at = now()
WHERE r.owner_node IS NULL
   OR (r.owner_node = excluded.owner_node AND r.owner_incarnation = excluded.owner_incarnation)
   OR NOT EXISTS (
     SELECT 1 FROM ph_nodes n
     WHERE n.node_id = r.owner_node AND n.incarnation = r.owner_incarnation AND n.lease_expires_at > now()
     FOR SHARE)
RETURNING owner_epoch`;

/** The room's live owner, if any. */
const OWNER_SQL = `
SELECT r.owner_node, n.address
FROM ph_rooms r JOIN ph_nodes n
  ON n.node_id = r.owner_node AND n.incarnation = r.owner_incarnation AND n.lease_expires_at > now()
WHERE r.party = $1 AND r.room = $2`;

/** Due alarms of rooms this node owns or no live node holds. */
const DUE_ALARMS_SQL = `
SELECT a.party, a.room, a.time
FROM ph_alarms a
LEFT JOIN ph_rooms r ON r.party = a.party AND r.room = a.room
LEFT JOIN ph_nodes n ON n.node_id = r.owner_node AND n.incarnation = r.owner_incarnation AND n.lease_expires_at > now()
WHERE a.time <= $3 AND (n.node_id IS NULL OR (n.node_id = $1 AND n.incarnation = $2))
ORDER BY a.time
LIMIT 1000`;

/** Thrown by `epochOf` when this node does not own the room: its storage must not commit. */
export class NotOwnedError extends Error {
  constructor(readonly room: RoomRef) {
    super(`room ${room.party}/${room.room} is not owned by this node`);
    this.name = "NotOwnedError";
  }
}

export class NodeNotLiveError extends Error {
  constructor(nodeId: string) {
    super(`cluster node ${nodeId} is not live (its lease could not be renewed); rooms are unavailable here`);
    this.name = "NodeNotLiveError";
  }
}

interface Owned {
  readonly ref: RoomRef;
  readonly epoch: number;
  readonly incarnation: string;
}

export interface PgDirectoryOptions {
  readonly pool: pg.Pool;
  readonly membership: Membership;
  readonly secret: string;
  readonly logger: Logger;
  /** How often to look for due alarms of this node's rooms and of orphaned rooms. Default 1 s. */
  readonly alarmPollMs?: number;
}

export class PgDirectory implements RoomDirectory, RoomOwnership {
  readonly nodeId: string;
  readonly secret: string;
  readonly alarmPollMs: number;
  private readonly owned = new Map<string, Owned>();
  private readonly remote = new Map<string, { nodeId: string; address: string }>();
  /** Per-room serialization of claims and releases. */
  private readonly busy = new Map<string, Promise<unknown>>();
  private readonly lostListeners: Array<(party: string, room: string) => void> = [];
  private readonly pool: pg.Pool;
  private readonly membership: Membership;
  /** Set by drain(): this node claims no room any more (it hands its rooms back). */
  private draining = false;

  constructor(private readonly options: PgDirectoryOptions) {
    this.pool = options.pool;
    this.membership = options.membership;
    this.nodeId = options.membership.nodeId;
    this.secret = options.secret;
    this.alarmPollMs = options.alarmPollMs ?? 1_000;
    // Self-fenced or lease found expired: every room may be someone else's by now.
    this.membership.onFenced(() => this.loseAll());
  }

  /** Rooms this node owns right now (for stats and tests). */
  get ownedCount(): number {
    return this.owned.size;
  }

  // ---- RoomDirectory ---------------------------------------------------------------------------

  async locate(party: string, room: string): Promise<RoomLocation> {
    const key = keyOf(party, room);
    const mine = this.owned.get(key);
    if (mine !== undefined) return { kind: "local", epoch: mine.epoch };
    this.assertLive();
    const cached = this.remote.get(key);
    if (cached !== undefined && this.isLiveNode(cached.nodeId)) return { kind: "remote", ...cached };
    const preferred = preferredNode(
      this.membership.liveNodes.map((node) => node.nodeId),
      party,
      room,
    );
    if (preferred === undefined || preferred === this.nodeId) return this.acquire({ party, room });
    const owner = await this.liveOwner(party, room);
    if (owner !== undefined && owner.nodeId === this.nodeId) return this.acquire({ party, room });
    const target = owner ?? this.membership.liveNodes.find((node) => node.nodeId === preferred)!;
    // Only a live owner is cached; a preferred-but-unclaimed target is asked again next time.
    if (owner !== undefined) this.remote.set(key, { nodeId: owner.nodeId, address: owner.address });
    return { kind: "remote", nodeId: target.nodeId, address: target.address };
  }

  invalidate(party: string, room: string): void {
    this.remote.delete(keyOf(party, room));
  }

  release(party: string, room: string): Promise<void> {
    return this.serialize(keyOf(party, room), () => this.releaseNow({ party, room }));
  }

  onLost(listener: (party: string, room: string) => void): void {
    this.lostListeners.push(listener);
  }

  /**
   * Graceful drain (SIGTERM): peers stop preferring this node and this node claims no room any
   * more; the router then hands its rooms back one by one (`release`). Rooms it still holds keep
   * answering until they are handed back.
   */
  async drain(): Promise<void> {
    this.draining = true;
    await this.membership.drain();
  }

  // ---- RoomOwnership (the runtime) -------------------------------------------------------------

  acquire(ref: RoomRef): Promise<Acquired> {
    const key = keyOf(ref.party, ref.room);
    const mine = this.owned.get(key);
    if (mine !== undefined) return Promise.resolve({ kind: "local", epoch: mine.epoch });
    return this.serialize(key, () => this.claim(ref));
  }

  releaseRoom(ref: RoomRef): Promise<void> {
    return this.release(ref.party, ref.room);
  }

  async dueAlarms(): Promise<Array<{ room: RoomRef; time: number }>> {
    if (!this.membership.isLive) return [];
    const result = await this.pool.query<{ party: string; room: string; time: string }>(DUE_ALARMS_SQL, [
      this.nodeId,
      this.membership.incarnation,
      Date.now(),
    ]);
    return result.rows.map((row) => ({ room: { party: row.party, room: row.room }, time: Number(row.time) }));
  }

  // ---- for the storage engine ------------------------------------------------------------------

  /** The fence token of a room this node owns; throws NotOwnedError otherwise. */
  epochOf(ref: RoomRef): number {
    const mine = this.owned.get(keyOf(ref.party, ref.room));
    if (mine === undefined) throw new NotOwnedError(ref);
    return mine.epoch;
  }

  get incarnation(): string {
    return this.membership.incarnation;
  }

  /** A commit of the room at `epoch` was refused by its fence: the room is someone else's. */
  fenced(ref: RoomRef, epoch: number): void {
    const key = keyOf(ref.party, ref.room);
    const mine = this.owned.get(key);
    if (mine === undefined || mine.epoch !== epoch) return;
    this.options.logger.log("warn", "room fenced: a commit was refused, the room is owned elsewhere", {
      party: ref.party,
      room: ref.room,
      epoch,
    });
    this.owned.delete(key);
    this.emitLost(ref);
  }

  /** Releases every room in one statement (graceful stop, after storage was flushed). */
  async releaseAll(): Promise<void> {
    const incarnation = this.membership.incarnation;
    this.owned.clear();
    await this.pool.query(
      "UPDATE ph_rooms SET owner_node = NULL, owner_incarnation = NULL WHERE owner_node = $1 AND owner_incarnation = $2",
      [this.nodeId, incarnation],
    );
  }

  // ---- internals ---------------------------------------------------------------------------------

  private async claim(ref: RoomRef): Promise<Acquired> {
    const key = keyOf(ref.party, ref.room);
    const already = this.owned.get(key);
    if (already !== undefined) return { kind: "local", epoch: already.epoch };
    if (this.draining) return this.elsewhere(ref);
    for (let attempt = 0; attempt < 3; attempt++) {
      this.assertLive();
      const incarnation = this.membership.incarnation;
      const claimed = await this.pool.query<{ owner_epoch: string }>(CLAIM_SQL, [ref.party, ref.room, this.nodeId, incarnation]);
      if (claimed.rows.length === 1) {
        // A fence (or re-registration) while the claim was in flight: do not hand it out.
        if (this.membership.incarnation !== incarnation || !this.membership.isLive) throw new NodeNotLiveError(this.nodeId);
        const epoch = Number(claimed.rows[0]!.owner_epoch);
        this.owned.set(key, { ref: { party: ref.party, room: ref.room }, epoch, incarnation });
        this.remote.delete(key);
        return { kind: "local", epoch };
      }
      const owner = await this.liveOwner(ref.party, ref.room);
      if (owner !== undefined && owner.nodeId !== this.nodeId) {
        this.remote.set(key, owner);
        return { kind: "remote", ...owner };
      }
      // The owner's lease ran out between the two statements (or our own did): try again.
    }
    throw new NodeNotLiveError(this.nodeId);
  }

  /** Draining: the live owner, or the node rendezvous hashing prefers among the others. */
  private async elsewhere(ref: RoomRef): Promise<Acquired> {
    this.assertLive();
    const owner = await this.liveOwner(ref.party, ref.room);
    if (owner !== undefined && owner.nodeId !== this.nodeId) return { kind: "remote", ...owner };
    const others = this.membership.liveNodes.filter((node) => node.nodeId !== this.nodeId);
    const preferred = preferredNode(
      others.map((node) => node.nodeId),
      ref.party,
      ref.room,
    );
    const target = others.find((node) => node.nodeId === preferred);
    if (target === undefined) throw new NodeNotLiveError(this.nodeId);
    return { kind: "remote", nodeId: target.nodeId, address: target.address };
  }

  private async releaseNow(ref: RoomRef): Promise<void> {
    const key = keyOf(ref.party, ref.room);
    const mine = this.owned.get(key);
    if (mine === undefined) return;
    this.owned.delete(key);
    try {
      await this.pool.query(
        `UPDATE ph_rooms SET owner_node = NULL, owner_incarnation = NULL
         WHERE party = $1 AND room = $2 AND owner_node = $3 AND owner_incarnation = $4 AND owner_epoch = $5`,
        [ref.party, ref.room, this.nodeId, mine.incarnation, mine.epoch],
      );
    } catch (error) {
      // Not fatal: the room is forgotten here, and the lease or a later claim of ours settles it.
      this.options.logger.log("warn", "releasing a room failed", { party: ref.party, room: ref.room, ...describeError(error) });
    }
  }

  private async liveOwner(party: string, room: string): Promise<{ nodeId: string; address: string } | undefined> {
    const result = await this.pool.query<{ owner_node: string; address: string }>(OWNER_SQL, [party, room]);
    const row = result.rows[0];
    return row === undefined ? undefined : { nodeId: row.owner_node, address: row.address };
  }

  private isLiveNode(nodeId: string): boolean {
    return this.membership.liveNodes.some((node) => node.nodeId === nodeId);
  }

  private assertLive(): void {
    if (!this.membership.isLive) throw new NodeNotLiveError(this.nodeId);
  }

  private loseAll(): void {
    const lost = [...this.owned.values()];
    this.owned.clear();
    this.remote.clear();
    for (const entry of lost) this.emitLost(entry.ref);
  }

  private emitLost(ref: RoomRef): void {
    for (const listener of this.lostListeners) {
      try {
        listener(ref.party, ref.room);
      } catch (error) {
        this.options.logger.log("error", "a lost-room listener failed", describeError(error));
      }
    }
  }

  /** Runs `work` after any claim or release of the same room still in progress. */
  private serialize<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.busy.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.busy.set(key, settled);
    void settled.then(() => {
      if (this.busy.get(key) === settled) this.busy.delete(key);
    });
    return next;
  }
}

function keyOf(party: string, room: string): string {
  return `${party}\0${room}`;
}
