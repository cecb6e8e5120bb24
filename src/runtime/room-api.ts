import { createHash } from "node:crypto";
import type * as Party from "../types/party.js";
import type { RoomHost } from "./room-host.js";

/**
 * The `Party.Room` object handed to a server's constructor. One per room, reused by every
 * instance the room builds (after hibernation too); all state lives in the RoomHost.
 */
export class RoomApi implements Party.Room {
  private internalIdValue: string | undefined;
  private contextValue: Party.Context | undefined;
  private warnedAnalytics = false;

  constructor(private readonly host: RoomHost) {}

  /** A stable 64-hex-character id, like a Durable Object id; hashed only if someone asks. */
  get internalID(): string {
    return (this.internalIdValue ??= createHash("sha256").update(`${this.host.ref.party}\0${this.host.ref.room}`).digest("hex"));
  }

  /** Unlike PartyKit, available inside onAlarm too: the room always knows its id. */
  get id(): string {
    return this.host.id;
  }

  get name(): string {
    return this.host.ref.party;
  }

  get env(): Record<string, unknown> {
    return this.host.services.env;
  }

  get storage(): Party.Storage {
    return this.host.storage;
  }

  get context(): Party.Context {
    return (this.contextValue ??= this.host.services.context(this.host));
  }

  get analytics(): Party.Analytics {
    return {
      writeDataPoint: () => {
        if (this.warnedAnalytics) return;
        this.warnedAnalytics = true;
        this.host.services.logger.log("warn", "room.analytics.writeDataPoint is a no-op on partyhouse", {
          party: this.name,
        });
      },
    };
  }

  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T> {
    return this.host.blockConcurrencyWhile(callback);
  }

  broadcast(message: string | ArrayBuffer | ArrayBufferView, without?: string[]): void {
    this.host.broadcast(message, without);
  }

  getConnection<TState = unknown>(id: string): Party.Connection<TState> | undefined {
    return this.host.getConnection(id) as Party.Connection<TState> | undefined;
  }

  getConnections<TState = unknown>(tag?: string): Iterable<Party.Connection<TState>> {
    return this.host.getConnections(tag) as Iterable<Party.Connection<TState>>;
  }

  /** @deprecated use getConnections() */
  get connections(): Map<string, Party.Connection> {
    this.host.services.logger.log("warn", "room.connections is deprecated; use room.getConnections()", {
      party: this.name,
    });
    const map = new Map<string, Party.Connection>();
    for (const connection of this.host.getConnections()) map.set(connection.id, connection);
    return map;
  }

  /** @deprecated use room.context.parties */
  get parties(): Party.Parties {
    this.host.services.logger.log("warn", "room.parties is deprecated; use room.context.parties", {
      party: this.name,
    });
    return this.context.parties;
  }
}
