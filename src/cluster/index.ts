/** Cluster mode for startPartyhouse: routing through a RoomDirectory. */
import type { ClusterServerOptions } from "../server/options.js";
import { ClusterRouter, type MaybeDrainable } from "./cluster-router.js";

export type { RoomDirectory, RoomLocation } from "./directory.js";
export { StaticCluster, type DrainableDirectory, type StaticClusterSpec } from "./static-directory.js";

export interface RoutingOptions {
  /** Stale-route waits (tests shorten them). Default 100, 200, 400 ms. */
  retryDelaysMs?: readonly number[];
}

/** `startPartyhouse({ ..., cluster: clusterRouting(directory) })`. */
export function clusterRouting(directory: MaybeDrainable, options: RoutingOptions = {}): ClusterServerOptions {
  return {
    secret: directory.secret,
    router: (local, logger) =>
      new ClusterRouter({ directory, local, logger, ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}) }),
  };
}
