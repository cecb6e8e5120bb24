/**
 * Room ownership on PostgreSQL (spec §5.6 c): who runs each room, cluster-wide.
 *
 * - `locate` (the edge's question): a room this node owns is local; a room known to be held by
 *   a live node is remote there. Any other room, asked for by a client of this node
 *   (`claimHere`), is claimed here unless a live node holds it: placement follows the load
 *   balancer. Asked for by a stub or an alarm, it is claimed here when rendezvous hashing over
 *   the live, non-draining nodes prefers this node, else it is remote at the preferred node,
 *   with no lookup and *without* claiming: that node claims it when the forwarded request
 *   arrives (its `acquire`), or answers "moved" with the owner's address if a live node holds
 *   it, and after that stale route the next `locate` of the room asks the database.
 * - `acquire` (the runtime's, before building an instance): claims here unless a live node holds
 *   the room, whatever the preference, so forwarded requests and alarms never bounce.
 * - A claim is one conditional statement that bumps the epoch (see CLAIMS_SQL); instances are
 *   built only after it committed. Claims, releases and owner lookups requested in the same
 *   event-loop turn (or while earlier ones are in flight) share one statement (Batcher), so
 *   many new rooms cost one WAL flush instead of one each.
 * - Every statement that locks several ph_rooms rows (claims, releases, the storage fence) locks
 *   them in (party, room) order, byte-wise, so two of them never wait for each other in a cycle.
 */
import type pg from "pg";
import type { RoomRef } from "../storage/engine.js";
import { roomKey, type RoomKey } from "../storage/room-key.js";
import type { AlarmSource, LocateOptions, Placement, RoomLocation } from "../runtime/placement.js";
import type { Logger } from "../runtime/logger.js";
import { describeError } from "../runtime/logger.js";
import { Batcher, type BatcherOptions } from "./batcher.js";
import type { LiveNode, Membership } from "./membership.js";
import { preferredNode } from "./rendezvous.js";

/**
 * For each room of the batch ($1 parties, $2 rooms): insert it owned by me at epoch 1, or take
 * it over (epoch + 1) only if it was released, is mine already (a previous instance here), or
 * its owner's lease expired / incarnation changed — judged by the database clock. The
 * conflicting row is locked by ON CONFLICT, which conflicts with the FOR SHARE fence of the old
 * owner's commits, so a commit in flight finishes first and any later one is refused. The
 * owner's ph_nodes row is read FOR SHARE, so a renewal committing right now is waited for and
 * re-checked instead of overtaken. A claimant whose own lease has expired inserts nothing and
 * takes nothing. Rooms are taken in (party, room) order (see the header); a room appears at
 * most once per batch (claims of one room are serialized), as ON CONFLICT requires. RETURNING
 * names the rooms claimed; the others failed exactly as a claim of that room alone would.
 */
const CLAIMS_SQL = `
INSERT INTO ph_rooms AS r (party, room, owner_node, owner_incarnation, owner_epoch, claimed_at)
SELECT c.party, c.room, $3, $4, 1, now()
FROM unnest($1::text[], $2::text[]) AS c(party, room)
WHERE EXISTS (SELECT 1 FROM ph_nodes me WHERE me.node_id = $3 AND me.incarnation = $4 AND me.lease_expires_at > now())
ORDER BY c.party COLLATE "C", c.room COLLATE "C"
ON CONFLICT (party, room) DO UPDATE
SET owner_node = excluded.owner_node, owner_incarnation = excluded.owner_incarnation,
    owner_epoch = r.owner_epoch + 1, claimed_at = now()
WHERE r.owner_node IS NULL
   OR (r.owner_node = excluded.owner_node AND r.owner_incarnation = excluded.owner_incarnation)
   OR NOT EXISTS (
     SELECT 1 FROM ph_nodes n
     WHERE n.node_id = r.owner_node AND n.incarnation = r.owner_incarnation AND n.lease_expires_at > now()
     FOR SHARE)
RETURNING r.party, r.room, r.owner_epoch`;

/**
 * Releases a batch of rooms ($1 parties, $2 rooms, $3 incarnations, $4 epochs) still held by
 * me ($5) at the epoch I claimed: rows locked first in (party, room) order, then cleared.
 */
const RELEASES_SQL = `
WITH mine AS (
  SELECT r.party, r.room FROM ph_rooms r
  JOIN unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS x(party, room, incarnation, epoch)
    ON r.party = x.party AND r.room = x.room AND r.owner_incarnation = x.incarnation AND r.owner_epoch = x.epoch
  WHERE r.owner_node = $5
  ORDER BY r.party, r.room
  FOR UPDATE OF r)
UPDATE ph_rooms r SET owner_node = NULL, owner_incarnation = NULL
FROM mine WHERE r.party = mine.party AND r.room = mine.room`;

/** Every room this incarnation holds, locked in (party, room) order, then cleared. */
const RELEASE_ALL_SQL = `
WITH mine AS (
  SELECT party, room FROM ph_rooms WHERE owner_node = $1 AND owner_incarnation = $2
  ORDER BY party, room
  FOR UPDATE)
UPDATE ph_rooms r SET owner_node = NULL, owner_incarnation = NULL
FROM mine WHERE r.party = mine.party AND r.room = mine.room`;

/**
 * Rebalancing: gives a room this node ($3) holds at incarnation $4 and epoch $5 to node $6 if
 * that node is live and not draining (database clock), else releases it. The new owner has not
 * claimed it yet: its first claim succeeds at once (the room is "its already") and bumps the
 * epoch. Meanwhile every node finds it held by a live node, so requests go there.
 */
const HAND_OFF_SQL = `
UPDATE ph_rooms r SET owner_node = t.node_id, owner_incarnation = t.incarnation
FROM (SELECT 1) AS one
LEFT JOIN ph_nodes t ON t.node_id = $6 AND t.lease_expires_at > now() AND NOT t.draining
WHERE r.party = $1 AND r.room = $2 AND r.owner_node = $3 AND r.owner_incarnation = $4 AND r.owner_epoch = $5
RETURNING r.owner_node`;

/** The live owner of each room of the batch, by its position (1-based) in the arrays. */
const OWNERS_SQL = `
SELECT q.i, r.owner_node, n.address
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS q(party, room, i)
JOIN ph_rooms r ON r.party = q.party AND r.room = q.room
JOIN ph_nodes n
  ON n.node_id = r.owner_node AND n.incarnation = r.owner_incarnation AND n.lease_expires_at > now()`;

/**
 * Due alarms of rooms this node owns or no live node holds; `mine`: the room names this node (it
 * may have been handed here and not claimed yet).
 */
const DUE_ALARMS_SQL = `
SELECT a.party, a.room, a.time, n.node_id IS NOT NULL AS mine
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

/** A claim that committed: the room's new epoch, under the incarnation it was claimed with. */
interface Claimed {
  readonly epoch: number;
  readonly incarnation: string;
}

interface Owner {
  readonly nodeId: string;
  readonly address: string;
}

/** Rooms remembered as "look up before routing" (after a stale route); beyond it, routes stay optimistic. */
const MAX_DOUBTED = 100_000;

/** At most 500 rooms per statement and two statements of each kind in flight per node. */
const BATCHES: BatcherOptions = { maxBatch: 500, maxInFlight: 2 };

export interface PgDirectoryOptions {
  readonly pool: pg.Pool;
  readonly membership: Membership;
  readonly secret: string;
  readonly logger: Logger;
  /** How often to look for due alarms of this node's rooms and of orphaned rooms. Default 1 s. */
  readonly alarmPollMs?: number;
}

export class PgDirectory implements Placement {
  readonly nodeId: string;
  readonly secret: string;
  readonly alarms: AlarmSource;
  private readonly owned = new Map<RoomKey, Owned>();
  private readonly remote = new Map<RoomKey, Owner>();
  /**
   * Rooms whose route turned out stale (invalidate): the next `locate` asks the database who owns
   * them instead of going straight to the preferred node. Emptied by that lookup.
   */
  private readonly doubted = new Set<RoomKey>();
  /** Per-room serialization of claims and releases. */
  private readonly busy = new Map<RoomKey, Promise<unknown>>();
  /** Rooms being released or handed to another node: no instance is built here meanwhile (acquire and locate wait). */
  private readonly leaving = new Set<RoomKey>();
  private readonly lostListeners: Array<(room: RoomRef) => void> = [];
  private readonly pool: pg.Pool;
  private readonly membership: Membership;
  /** Set by drain(): this node claims no room any more (it hands its rooms back). */
  private draining = false;
  private readonly claims = new Batcher<RoomRef, Claimed | undefined>((refs) => this.claimBatch(refs), BATCHES);
  private readonly releases = new Batcher<Owned, void>((rooms) => this.releaseBatch(rooms), BATCHES);
  private readonly owners = new Batcher<RoomRef, Owner | undefined>((refs) => this.ownerBatch(refs), BATCHES);

  constructor(private readonly options: PgDirectoryOptions) {
    this.pool = options.pool;
    this.membership = options.membership;
    this.nodeId = options.membership.nodeId;
    this.secret = options.secret;
    this.alarms = { kind: "poll", everyMs: options.alarmPollMs ?? 1_000, due: () => this.dueAlarms() };
    // Self-fenced or lease found expired: every room may be someone else's by now.
    this.membership.onFenced(() => this.loseAll());
  }

  /** Rooms this node owns right now (for stats and tests). */
  get ownedCount(): number {
    return this.owned.size;
  }

  // ---- Placement -------------------------------------------------------------------------------

  async locate(ref: RoomRef, options: LocateOptions = {}): Promise<RoomLocation> {
    const { party, room } = ref;
    const key = roomKey(ref);
    // A release or hand-off of the room here: ask once it is done.
    if (this.leaving.has(key)) await this.busy.get(key);
    const mine = this.owned.get(key);
    if (mine !== undefined && !this.leaving.has(key)) return { kind: "local", epoch: mine.epoch };
    this.assertLive();
    const cached = this.remote.get(key);
    if (cached !== undefined && this.isLiveNode(cached.nodeId)) return { kind: "remote", ...cached };
    if (options.claimHere === true) {
      // A client reached this node: claim here unless a live node holds the room (then it is
      // remembered). One statement for a room not known here, none once it is.
      this.doubted.delete(key);
      return this.acquire({ party, room });
    }
    const preferred = this.preferredLiveNode(party, room);
    if (preferred === undefined || preferred.nodeId === this.nodeId) return this.acquire({ party, room });
    if (!this.doubted.has(key)) {
      // Optimistic: most rooms live on their preferred node (it claims them when they are
      // first asked for), so go there without a lookup. If another live node holds the room,
      // the preferred node answers "moved" with its address, the router invalidates, and the
      // next locate looks it up.
      return { kind: "remote", nodeId: preferred.nodeId, address: preferred.address };
    }
    this.doubted.delete(key);
    const owner = await this.owners.add({ party, room });
    if (owner !== undefined && owner.nodeId === this.nodeId) return this.acquire({ party, room });
    if (owner !== undefined) {
      this.remote.set(key, { nodeId: owner.nodeId, address: owner.address });
      return { kind: "remote", nodeId: owner.nodeId, address: owner.address };
    }
    // Nobody live holds it. A renewal may have changed the live set during the lookup (the
    // preferred node may have left), so place it by the set as it is now. Not cached: a
    // preferred-but-unclaimed target is asked again next time.
    const now = this.preferredLiveNode(party, room);
    if (now === undefined || now.nodeId === this.nodeId) return this.acquire({ party, room });
    return { kind: "remote", nodeId: now.nodeId, address: now.address };
  }

  invalidate(ref: RoomRef): void {
    const key = roomKey(ref);
    this.remote.delete(key);
    // Bounded: an entry lives until the next locate of that room.
    if (this.doubted.size < MAX_DOUBTED) this.doubted.add(key);
  }

  release(ref: RoomRef, closed: Promise<void>): Promise<void> {
    const key = roomKey(ref);
    // At once, not when the serialized work begins: a build that asks meanwhile must wait.
    this.leaving.add(key);
    return this.serialize(key, async () => {
      try {
        await closed.catch(() => undefined);
        await this.releaseNow(ref);
      } finally {
        this.leaving.delete(key);
      }
    });
  }

  onLost(listener: (room: RoomRef) => void): void {
    this.lostListeners.push(listener);
  }

  /**
   * Rebalancing: after `drop` (which flushes the room's storage, so its commits still carry the
   * epoch), the room is given to `to` in one statement (HAND_OFF_SQL). From the call on, no
   * instance of it is built here: acquire and locate wait for the hand-off, then find the owner.
   */
  handOff(ref: RoomRef, to: string, drop: () => Promise<void>): Promise<void> {
    const { party, room } = ref;
    const key = roomKey(ref);
    if (!this.owned.has(key) || this.leaving.has(key)) return Promise.resolve();
    // At once, not when the serialized work begins: a build that asks meanwhile must wait.
    this.leaving.add(key);
    return this.serialize(key, async () => {
      try {
        await drop();
        const mine = this.owned.get(key);
        if (mine === undefined) return; // lost meanwhile: not ours to give
        this.owned.delete(key);
        const result = await this.pool.query<{ owner_node: string | null }>(HAND_OFF_SQL, [
          party,
          room,
          this.nodeId,
          mine.incarnation,
          mine.epoch,
          to,
        ]);
        const now = result.rows[0]?.owner_node;
        this.options.logger.log("info", "room handed to the node its clients reach", { party, room, to, owner: now ?? null });
      } catch (error) {
        // Not fatal: the room is forgotten here; our lease or a later claim of ours settles it.
        this.options.logger.log("warn", "handing a room off failed", { party, room, to, ...describeError(error) });
      } finally {
        this.leaving.delete(key);
      }
    });
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

  acquire(ref: RoomRef): Promise<RoomLocation> {
    const key = roomKey(ref);
    const mine = this.owned.get(key);
    // A room being handed off: the claim waits for the hand-off, then finds the new owner.
    if (mine !== undefined && !this.leaving.has(key)) return Promise.resolve({ kind: "local", epoch: mine.epoch });
    return this.serialize(key, () => this.claim(ref));
  }

  holdsLease(): boolean {
    return this.membership.holdsLease();
  }

  /** Due alarms this node should fire: its own rooms' and those of rooms no live node holds. */
  async dueAlarms(): Promise<Array<{ room: RoomRef; time: number }>> {
    if (!this.membership.isLive) return [];
    const result = await this.pool.query<{ party: string; room: string; time: string; mine: boolean }>(DUE_ALARMS_SQL, [
      this.nodeId,
      this.membership.incarnation,
      Date.now(),
    ]);
    for (const row of result.rows) {
      // Handed here and not claimed yet: claim it now, so the alarm fires here (locate, which
      // the alarm asks, knows only rooms claimed here).
      if (row.mine && !this.owned.has(roomKey(row))) await this.acquire({ party: row.party, room: row.room }).catch(() => undefined);
    }
    return result.rows.map((row) => ({ room: { party: row.party, room: row.room }, time: Number(row.time) }));
  }

  // ---- for the storage engine ------------------------------------------------------------------

  /** The fence token of a room this node owns; throws NotOwnedError otherwise. */
  epochOf(ref: RoomRef): number {
    const mine = this.owned.get(roomKey(ref));
    if (mine === undefined) throw new NotOwnedError(ref);
    return mine.epoch;
  }

  get incarnation(): string {
    return this.membership.incarnation;
  }

  leaseLeftMs(incarnation: string): number {
    return this.membership.leaseLeftMs(incarnation);
  }

  /** A commit of the room at `epoch` was refused by its fence: the room is someone else's. */
  fenced(ref: RoomRef, epoch: number): void {
    const key = roomKey(ref);
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
    await this.pool.query(RELEASE_ALL_SQL, [this.nodeId, incarnation]);
  }

  // ---- internals ---------------------------------------------------------------------------------

  private async claim(ref: RoomRef): Promise<RoomLocation> {
    const key = roomKey(ref);
    const already = this.owned.get(key);
    if (already !== undefined) return { kind: "local", epoch: already.epoch };
    if (this.draining) return this.elsewhere(ref);
    for (let attempt = 0; attempt < 3; attempt++) {
      this.assertLive();
      const claimed = await this.claims.add(ref);
      if (claimed !== undefined) {
        // A fence (or re-registration) while the claim was in flight: do not hand it out.
        const { epoch, incarnation } = claimed;
        if (this.membership.incarnation !== incarnation || !this.membership.isLive) throw new NodeNotLiveError(this.nodeId);
        this.owned.set(key, { ref: { party: ref.party, room: ref.room }, epoch, incarnation });
        this.remote.delete(key);
        return { kind: "local", epoch };
      }
      const owner = await this.owners.add(ref);
      if (owner !== undefined && owner.nodeId !== this.nodeId) {
        this.remote.set(key, owner);
        return { kind: "remote", ...owner };
      }
      // The owner's lease ran out between the two statements (or our own did): try again.
    }
    throw new NodeNotLiveError(this.nodeId);
  }

  /** Draining: the live owner, or the node rendezvous hashing prefers among the others. */
  private async elsewhere(ref: RoomRef): Promise<RoomLocation> {
    this.assertLive();
    const owner = await this.owners.add(ref);
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
    const key = roomKey(ref);
    const mine = this.owned.get(key);
    if (mine === undefined) return;
    this.owned.delete(key);
    try {
      await this.releases.add(mine);
    } catch (error) {
      // Not fatal: the room is forgotten here, and the lease or a later claim of ours settles it.
      this.options.logger.log("warn", "releasing a room failed", { party: ref.party, room: ref.room, ...describeError(error) });
    }
  }

  /**
   * One statement for the claims of a turn. The incarnation is read when the statement is sent
   * (a node that is not live then claims nothing, as when a lone claim starts); each claimed
   * room carries it, so `claim` can refuse rooms claimed just before a fence.
   */
  private async claimBatch(refs: readonly RoomRef[]): Promise<Array<Claimed | undefined>> {
    this.assertLive();
    const incarnation = this.membership.incarnation;
    const result = await this.pool.query<{ party: string; room: string; owner_epoch: string }>(CLAIMS_SQL, [
      refs.map((ref) => ref.party),
      refs.map((ref) => ref.room),
      this.nodeId,
      incarnation,
    ]);
    const epochs = new Map(result.rows.map((row) => [roomKey(row), Number(row.owner_epoch)]));
    return refs.map((ref) => {
      const epoch = epochs.get(roomKey(ref));
      return epoch === undefined ? undefined : { epoch, incarnation };
    });
  }

  private async releaseBatch(rooms: readonly Owned[]): Promise<void[]> {
    await this.pool.query(RELEASES_SQL, [
      rooms.map((owned) => owned.ref.party),
      rooms.map((owned) => owned.ref.room),
      rooms.map((owned) => owned.incarnation),
      rooms.map((owned) => owned.epoch),
      this.nodeId,
    ]);
    return rooms.map(() => undefined);
  }

  /** The live owner of each room (the same room may be asked for twice: locate is not serialized). */
  private async ownerBatch(refs: readonly RoomRef[]): Promise<Array<Owner | undefined>> {
    const result = await this.pool.query<{ i: string; owner_node: string; address: string }>(OWNERS_SQL, [
      refs.map((ref) => ref.party),
      refs.map((ref) => ref.room),
    ]);
    const owners = new Array<Owner | undefined>(refs.length).fill(undefined);
    for (const row of result.rows) owners[Number(row.i) - 1] = { nodeId: row.owner_node, address: row.address };
    return owners;
  }

  /** The live node rendezvous hashing prefers for the room, taken from one reading of the live set. */
  private preferredLiveNode(party: string, room: string): LiveNode | undefined {
    const live = this.membership.liveNodes;
    const preferred = preferredNode(
      live.map((node) => node.nodeId),
      party,
      room,
    );
    return live.find((node) => node.nodeId === preferred);
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
        listener(ref);
      } catch (error) {
        this.options.logger.log("error", "a lost-room listener failed", describeError(error));
      }
    }
  }

  /** Runs `work` after any claim or release of the same room still in progress. */
  private serialize<T>(key: RoomKey, work: () => Promise<T>): Promise<T> {
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
