import type { Readiness } from "./readiness.js";

/** The admin listener: health, readiness, metrics, the JSON API and the inspector page. */
export interface AdminOptions {
  /** Port; 0 picks a free one. */
  port: number;
  /** Bind address; default 127.0.0.1. Any non-loopback address requires `token`. */
  host?: string;
  /** Bearer token for /metrics and /api (16+ characters); required off loopback. */
  token?: string;
  /** More readiness sources beside storage (a cluster node: lease held, not draining). */
  readiness?: readonly Readiness[];
}
