/**
 * Node liveness (spec §5.6 b). A node's row in ph_nodes carries a lease that only the database
 * clock judges: renewals set `lease_expires_at = now() + lease`, one write per node per
 * renewal, however many rooms it owns.
 *
 * The node's own deadline is measured with the monotonic clock from the moment the last
 * successful renewal was *sent*: `sent + lease − margin`. That moment precedes the database's
 * `now()` for the renewal, so the local deadline falls before the database-side expiry (as long
 * as clock rates differ by less than the margin). Missing it self-fences: every room is dropped
 * (the runtime closes their sockets with 1012). A renewal that finds the lease already expired
 * never revives it: the node registers again under a new incarnation.
 *
 * Renewals run on a connection of their own, so a storage commit stuck on the pool cannot
 * delay them; a renewal that hangs is abandoned and its connection destroyed.
 *
 * Every SWEEP_EVERY renewals a node also deletes the rows of nodes that died long ago (see
 * SWEEP_DEAD_NODES_SQL), so ph_nodes does not grow with every node that ever ran.
 *
 * Readiness (`ready()`, a /readyz source) is about the present: the lease is held (not fenced, not
 * past the deadline, not draining) and the database answered a renewal recently. It needs no
 * traffic to recover: renewals and re-registration run by themselves.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import pg from "pg";
import type { Readiness, ReadinessState } from "../admin/readiness.js";
import type { Logger } from "../runtime/logger.js";
import { describeError } from "../runtime/logger.js";

export interface MembershipOptions {
  readonly connectionString: string;
  readonly nodeId: string;
  /** host:port peers use to reach this node. */
  readonly address: string;
  /** Lease length (database clock). Default 10 s. */
  readonly leaseMs?: number;
  /** Renewal period. Default lease / 5 (2 s for the default lease). */
  readonly renewEveryMs?: number;
  /** Self-fence this long before the lease would expire. Default lease / 5. */
  readonly marginMs?: number;
  readonly logger: Logger;
}

export interface LiveNode {
  readonly nodeId: string;
  readonly address: string;
}

interface RenewRow {
  renewed: string;
  nodes: Array<{ node_id: string; address: string; draining: boolean }> | null;
}

export type MembershipState = "live" | "fenced";

export class Membership implements Readiness {
  readonly nodeId: string;
  readonly address: string;
  readonly leaseMs: number;
  readonly renewEveryMs: number;
  readonly marginMs: number;
  /** Current incarnation (bigint as decimal text, as pg returns it). Changes on re-registration. */
  incarnation = "0";
  state: MembershipState = "fenced";
  /** Live, non-draining nodes, as of the last renewal (this node included while live). */
  liveNodes: readonly LiveNode[] = [];
  private client: pg.Client | undefined;
  private deadline = 0;
  private renewTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private readonly fencedListeners: Array<(reason: string) => void> = [];
  private readonly liveListeners: Array<() => void> = [];
  private renewing = false;
  /** Successful renewals since registration, to sweep dead nodes every SWEEP_EVERY of them. */
  private renewals = 0;
  private stopped = false;
  private draining = false;
  /** Whether the last renewal (or registration) succeeded, and when one last did (monotonic). */
  private lastAttemptOk = false;
  private lastSuccessAt = 0;

  constructor(private readonly options: MembershipOptions) {
    this.nodeId = options.nodeId;
    this.address = options.address;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.renewEveryMs = options.renewEveryMs ?? Math.max(50, Math.floor(this.leaseMs / 5));
    this.marginMs = options.marginMs ?? Math.floor(this.leaseMs / 5);
  }

  /** The node stopped being live (missed its deadline or found its lease expired). */
  onFenced(listener: (reason: string) => void): void {
    this.fencedListeners.push(listener);
  }

  /** The node became live (registered, again after a fence). */
  onLive(listener: () => void): void {
    this.liveListeners.push(listener);
  }

  get isLive(): boolean {
    return this.state === "live" && performance.now() < this.deadline;
  }

  /**
   * The lease checked now, not when the deadline timer gets to run: after the process was
   * stopped or its loop blocked, I/O that waited is handled before any timer, so the timer may
   * be late. Fences at once if the deadline passed; false until the node registered again.
   */
  holdsLease(): boolean {
    if (this.state === "live" && performance.now() >= this.deadline) this.fence("lease not renewed in time");
    return this.isLive;
  }

  /**
   * How long work begun under `incarnation` may go on (a storage statement retried while the
   * database does not answer): until the lease deadline, on the monotonic clock; 0 once the
   * lease it began under is not held.
   */
  leaseLeftMs(incarnation: string): number {
    if (this.state !== "live" || this.incarnation !== incarnation) return 0;
    return Math.max(0, this.deadline - performance.now());
  }

  /** When the database last answered a renewal or registration (performance.now() ms). */
  get lastAnsweredAt(): number {
    return this.lastSuccessAt;
  }

  /**
   * For /readyz: ready while the lease is held and the database answered lately. "Lately" is two
   * renewal periods: one renewal may be slow, but a hung or failing one makes the node unready
   * long before its lease deadline, so a load balancer moves traffic off it first.
   */
  ready(): ReadinessState {
    if (this.stopped) return { ok: false, reason: "cluster node stopped" };
    if (!this.isLive) return { ok: false, reason: "cluster lease not held (fenced; registering again)" };
    if (this.draining) return { ok: false, reason: "cluster node draining" };
    const since = Math.round(performance.now() - this.lastSuccessAt);
    if (!this.lastAttemptOk || since > 2 * this.renewEveryMs) {
      return { ok: false, reason: `cluster database unreachable (last lease renewal ${since} ms ago)` };
    }
    return { ok: true, reason: `cluster lease held (${this.nodeId})` };
  }

  /** Registers (throws if the database cannot be reached) and starts renewing. */
  async start(): Promise<void> {
    await this.register();
    this.scheduleRenewal();
  }

  /** Marks this node draining: peers stop preferring it for new rooms. */
  async drain(): Promise<void> {
    this.draining = true;
    await this.run("UPDATE ph_nodes SET draining = true WHERE node_id = $1 AND incarnation = $2", [this.nodeId, this.incarnation]);
  }

  /** Stops renewing and expires the lease now, so peers may take this node's rooms at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.renewTimer);
    clearTimeout(this.deadlineTimer);
    try {
      await this.run("UPDATE ph_nodes SET lease_expires_at = now() WHERE node_id = $1 AND incarnation = $2", [
        this.nodeId,
        this.incarnation,
      ]);
    } catch {
      // Unreachable database: the lease expires by itself.
    }
    this.state = "fenced";
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }

  private async register(): Promise<void> {
    const incarnation = BigInt("0x" + randomBytes(7).toString("hex")).toString();
    const sent = performance.now();
    const result = await this.run<RenewRow>(
      `WITH registered AS (
         INSERT INTO ph_nodes (node_id, incarnation, address, lease_expires_at, draining)
         VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond', false)
         ON CONFLICT (node_id) DO UPDATE SET incarnation = excluded.incarnation, address = excluded.address,
           lease_expires_at = excluded.lease_expires_at, draining = false, registered_at = now()
         RETURNING 1)
       SELECT (SELECT count(*) FROM registered) AS renewed, ${LIVE_NODES} AS nodes`,
      [this.nodeId, incarnation, this.address, this.leaseMs],
    );
    this.incarnation = incarnation;
    this.deadline = sent + this.leaseMs - this.marginMs;
    this.answered();
    this.updateNodes(result.rows[0]!);
    this.state = "live";
    this.armDeadline();
    this.options.logger.log("info", "cluster node registered", { node: this.nodeId, incarnation, address: this.address });
    for (const listener of this.liveListeners) listener();
  }

  /**
   * The next renewal in one period, or in a quarter of one after a failure: a database that comes
   * back is then noticed within that quarter, so an outage that ends a quarter period before the
   * deadline costs no fence (and readiness returns as soon).
   */
  private scheduleRenewal(): void {
    if (this.stopped) return;
    const wait = this.lastAttemptOk ? this.renewEveryMs : Math.max(25, Math.floor(this.renewEveryMs / 4));
    this.renewTimer = setTimeout(() => void this.renew(), wait);
    this.renewTimer.unref();
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.stopped) return;
    this.renewing = true;
    try {
      if (this.state === "fenced") {
        await this.register();
        return;
      }
      const sent = performance.now();
      const result = await this.run<RenewRow>(
        `WITH renewed AS (
           UPDATE ph_nodes SET lease_expires_at = now() + $3 * interval '1 millisecond', draining = $4
           WHERE node_id = $1 AND incarnation = $2 AND lease_expires_at > now()
           RETURNING 1)
         SELECT (SELECT count(*) FROM renewed) AS renewed, ${LIVE_NODES} AS nodes`,
        [this.nodeId, this.incarnation, this.leaseMs, this.draining],
      );
      if (this.stopped || this.state !== "live") return;
      this.answered();
      const row = result.rows[0]!;
      if (row.renewed === "0") {
        // The lease expired in the database: our rooms may be taken. Never revive it.
        this.fence("lease expired in the database");
        return;
      }
      this.deadline = sent + this.leaseMs - this.marginMs;
      this.armDeadline();
      this.updateNodes(row);
      if (++this.renewals % SWEEP_EVERY === 0) await this.sweepDeadNodes();
    } catch (error) {
      this.lastAttemptOk = false;
      this.options.logger.log("warn", "cluster lease renewal failed", { node: this.nodeId, ...describeError(error) });
    } finally {
      this.renewing = false;
      this.scheduleRenewal();
    }
  }

  private answered(): void {
    this.lastAttemptOk = true;
    this.lastSuccessAt = performance.now();
  }

  /** After a renewal, so it never delays one; a failure only waits for the next sweep. */
  private async sweepDeadNodes(): Promise<void> {
    try {
      await this.run(SWEEP_DEAD_NODES_SQL, [DEAD_AFTER_LEASES * this.leaseMs]);
    } catch (error) {
      this.options.logger.log("warn", "deleting dead cluster nodes failed", { node: this.nodeId, ...describeError(error) });
    }
  }

  /** The statement's snapshot predates its own write, so this node is added (or dropped) by hand. */
  private updateNodes(row: RenewRow): void {
    const others = (row.nodes ?? []).filter((node) => !node.draining && node.node_id !== this.nodeId);
    const nodes = others.map((node) => ({ nodeId: node.node_id, address: node.address }));
    if (!this.draining) nodes.push({ nodeId: this.nodeId, address: this.address });
    this.liveNodes = nodes;
  }

  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    const wait = Math.max(0, this.deadline - performance.now());
    // A timer counts from the loop's cached time, which can be a few ms behind when it is set,
    // so it may fire before the deadline: then it is set again, or the node (cut off, with no
    // renewal to re-arm it) would never fence itself.
    this.deadlineTimer = setTimeout(() => {
      if (this.holdsLease()) this.armDeadline();
    }, wait + 1);
    this.deadlineTimer.unref();
  }

  private fence(reason: string): void {
    if (this.state === "fenced") return;
    this.state = "fenced";
    clearTimeout(this.deadlineTimer);
    this.options.logger.log("error", "cluster node fenced itself", { node: this.nodeId, incarnation: this.incarnation, reason });
    for (const listener of this.fencedListeners) listener(reason);
  }

  /**
   * One query on the membership connection, abandoned (and the connection destroyed) if it
   * takes longer than a renewal period allows, so a hung connection never blocks the next try.
   */
  private async run<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    const timeoutMs = Math.max(this.renewEveryMs * 2, 500);
    const client = await this.connect(timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`cluster database did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([client.query<R>(sql, values), timeout]);
    } catch (error) {
      this.dropClient(client);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private async connect(timeoutMs: number): Promise<pg.Client> {
    if (this.client !== undefined) return this.client;
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      connectionTimeoutMillis: timeoutMs,
      keepAlive: true,
      application_name: `partyhouse-membership ${this.nodeId}`,
    });
    client.on("error", () => this.dropClient(client));
    await client.connect();
    this.client = client;
    return client;
  }

  private dropClient(client: pg.Client): void {
    if (this.client === client) this.client = undefined;
    // end() waits for the server; a dead connection must go now.
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    void client.end().catch(() => undefined);
  }
}

/** Live nodes, judged by the database clock, as one JSON array. */
const LIVE_NODES = `(SELECT json_agg(json_build_object('node_id', node_id, 'address', address, 'draining', draining))
  FROM ph_nodes WHERE lease_expires_at > now())`;

/** Renewals between two sweeps of dead nodes (20 s with the default lease). */
const SWEEP_EVERY = 10;
/** A node is dead for good once its lease expired this many leases ago (database clock). */
const DEAD_AFTER_LEASES = 10;

/**
 * Deletes up to 100 rows of nodes whose lease expired more than $1 ms ago and that own no room
 * (a room taken over names its new owner). The lease is judged by the database clock like every
 * lease; a dead node cannot claim, so "owns no room" stays true. SKIP LOCKED: a row a claim or
 * a re-registration holds right now is left for the next sweep instead of waited for, so the
 * sweep never blocks the membership connection; a re-registered node's lease is re-checked on
 * its new row and it is kept.
 */
const SWEEP_DEAD_NODES_SQL = `
DELETE FROM ph_nodes WHERE node_id IN (
  SELECT n.node_id FROM ph_nodes n
  WHERE n.lease_expires_at < now() - $1 * interval '1 millisecond'
    AND NOT EXISTS (SELECT 1 FROM ph_rooms r WHERE r.owner_node = n.node_id)
  LIMIT 100
  FOR UPDATE SKIP LOCKED)`;
