/**
 * The PostgreSQL engine as the shared storage suites use it (not a test file itself): one
 * cluster node that claims each room the first time storage asks for its fence token, so
 * the suites need not know about ownership.
 */
import pg from "pg";
import type { RoomRef, StorageEngine } from "../storage/engine.js";
import type { Logger } from "../runtime/logger.js";
import { Membership } from "./membership.js";
import { PgDirectory } from "./pg-directory.js";
import { PostgresEngine, type FenceAuthority } from "./pg-engine.js";
import { migrate } from "./schema.js";

export const silentLogger: Logger = { log() {} };

export interface TestNode {
  readonly pool: pg.Pool;
  readonly membership: Membership;
  readonly directory: PgDirectory;
  stop(): Promise<void>;
}

/** One registered node on `url` (schema migrated), with its directory. */
export async function startTestNode(
  url: string,
  options: { nodeId?: string; leaseMs?: number; logger?: Logger } = {},
): Promise<TestNode> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on("error", () => undefined);
  const { secret } = await migrate(pool);
  const logger = options.logger ?? silentLogger;
  const membership = new Membership({
    connectionString: url,
    nodeId: options.nodeId ?? "test-node",
    address: `127.0.0.1:1`,
    leaseMs: options.leaseMs ?? 30_000,
    logger,
  });
  const directory = new PgDirectory({ pool, membership, secret, logger });
  await membership.start();
  return {
    pool,
    membership,
    directory,
    async stop() {
      await membership.stop();
      await pool.end();
    },
  };
}

export async function openPostgresEngine(url: string): Promise<{ engine: StorageEngine; stop: () => Promise<void> }> {
  const node = await startTestNode(url);
  const { directory } = node;
  const authority: FenceAuthority = {
    nodeId: directory.nodeId,
    get incarnation() {
      return directory.incarnation;
    },
    async epochOf(room: RoomRef) {
      const acquired = await directory.acquire(room);
      if (acquired.kind !== "local") throw new Error(`test node could not claim ${room.party}/${room.room}`);
      return acquired.epoch;
    },
    fenced: (room, epoch) => directory.fenced(room, epoch),
    leaseLeftMs: (incarnation) => directory.leaseLeftMs(incarnation),
  };
  return { engine: new PostgresEngine(node.pool, authority), stop: () => node.stop() };
}
