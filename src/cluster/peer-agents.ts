/**
 * Kept-open HTTP connections to every peer node: one keep-alive Agent per peer address, so a
 * forwarded request normally reuses a warm connection instead of paying a TCP handshake.
 */
import { Agent } from "node:http";

export class PeerAgents {
  private readonly agents = new Map<string, Agent>();

  /** The agent for `host:port`, created on first use. */
  for(address: string): Agent {
    let agent = this.agents.get(address);
    if (!agent) {
      agent = new Agent({
        keepAlive: true,
        // Most recently used first: a small set of connections stays warm under light load.
        scheduling: "lifo",
        // Idle connections beyond this are closed; busy ones are not limited.
        maxFreeSockets: 256,
      });
      this.agents.set(address, agent);
    }
    return agent;
  }

  /** Closes every connection (server stop). */
  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

/** `host:port` (or `[v6]:port`) split for node:http. */
export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  if (colon < 1) throw new Error(`peer address "${address}" is not host:port`);
  let host = address.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { host, port: Number(address.slice(colon + 1)) };
}
