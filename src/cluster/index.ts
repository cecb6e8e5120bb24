/**
 * Cluster mode (README.md beside this file).
 *
 * - Data: membership, room ownership and room storage in one PostgreSQL database. `startCluster`
 *   migrates the schema, registers this node and gives the directory and the storage service.
 * - Routing: `clusterRouting(placement)` is what `startPartyhouse({ cluster })` takes: the
 *   placement the runtime claims rooms through, and the router that locates rooms and forwards
 *   HTTP and WebSockets to their owner.
 */
import pg from "pg";
import type { Readiness } from "../admin/readiness.js";
import type { StorageService } from "../storage/contract.js";
import { GroupCommitStorageService } from "../storage/service.js";
import type { Logger } from "../runtime/logger.js";
import { Membership } from "./membership.js";
import { PgDirectory } from "./pg-directory.js";
import { PostgresEngine } from "./pg-engine.js";
import { migrate } from "./schema.js";
import type { ClusterServerOptions } from "../server/options.js";
import type { Placement } from "../runtime/placement.js";
import { ClusterRouter } from "./cluster-router.js";
import type { PeerTls } from "./peer-tls.js";

export type { LocateOptions, Placement, RoomLocation } from "../runtime/placement.js";
export { PgDirectory, NodeNotLiveError, NotOwnedError } from "./pg-directory.js";
export { PostgresEngine } from "./pg-engine.js";
export { readPeerTls, type PeerTls, type PeerTlsFiles } from "./peer-tls.js";

export interface RoutingOptions {
  /** Stale-route waits (tests shorten them). Default 100, 200, 400 ms. */
  retryDelaysMs?: readonly number[];
  /** Rebalancing window (ClusterRouterOptions.rebalanceEveryMs); off if absent. */
  rebalanceEveryMs?: number;
  /** Mutual TLS between nodes (`readPeerTls` of `--cluster-cert/-key/-ca`); plaintext if absent. */
  tls?: PeerTls;
}

/** `startPartyhouse({ ..., cluster: clusterRouting(placement) })`. */
export function clusterRouting(placement: Placement, options: RoutingOptions = {}): ClusterServerOptions {
  return {
    placement,
    router: (local, logger) =>
      new ClusterRouter({
        directory: placement,
        local,
        logger,
        ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}),
        ...(options.rebalanceEveryMs !== undefined ? { rebalanceEveryMs: options.rebalanceEveryMs } : {}),
        ...(options.tls ? { tls: options.tls } : {}),
      }),
  };
}

export interface ClusterOptions {
  /** postgres:// URL of the cluster database. */
  readonly url: string;
  /** host:port other nodes use to reach this node. */
  readonly advertise: string;
  /** Stable name of this node; default: the advertised address. */
  readonly nodeId?: string;
  /** Node lease (database clock). Default 10 s. */
  readonly leaseMs?: number;
  readonly alarmPollMs?: number;
  readonly logger: Logger;
  /** Connections in the pool for storage and claims. Default 10. */
  readonly poolSize?: number;
}

export interface Cluster {
  readonly directory: PgDirectory;
  readonly membership: Membership;
  readonly storage: StorageService;
  /** For /readyz: the lease is held (not fenced, not draining) and the database answered lately. */
  readonly readiness: Readiness;
  /** Releases every room this node owns and expires its lease; call after storage was flushed. */
  close(): Promise<void>;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const nodeId = options.nodeId ?? options.advertise;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
    application_name: `partyhouse ${nodeId}`,
  });
  // An idle connection that dies (database restart, network cut) must not crash the process.
  pool.on("error", (error) => options.logger.log("warn", "cluster database connection lost", { message: error.message }));
  try {
    const { secret } = await migrate(pool);
    const membership = new Membership({
      connectionString: options.url,
      nodeId,
      address: options.advertise,
      logger: options.logger,
      ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
    });
    const directory = new PgDirectory({
      pool,
      membership,
      secret,
      logger: options.logger,
      ...(options.alarmPollMs !== undefined ? { alarmPollMs: options.alarmPollMs } : {}),
    });
    const engine = new PostgresEngine(pool, directory);
    const storage = new GroupCommitStorageService(engine);
    await membership.start();
    let closing: Promise<void> | undefined;
    return {
      directory,
      membership,
      storage,
      readiness: membership,
      close() {
        closing ??= (async () => {
          await directory.releaseAll().catch(() => undefined);
          await membership.stop();
          await pool.end().catch(() => undefined);
        })();
        return closing;
      },
    };
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
}
