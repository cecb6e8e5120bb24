/**
 * The admin JSON API: parties, rooms (live and stored), one room's connections, alarm and
 * storage keys, and one stored value. Storage is read from the engine (committed data) and
 * connections from the front door's socket records, so no request here starts or wakes a room.
 */
import { decodeValue } from "../storage/values.js";
import type { StorageReader } from "../storage/contract.js";
import { showValue } from "../storage/json-value.js";
import type { LiveView } from "./live-view.js";
import { BadCursorError, DEFAULT_PAGE, MAX_PAGE, decodeCursor, encodeCursor, listRoomsPage } from "./room-list.js";

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

/** Connections listed per room; the total is always given. */
export const MAX_CONNECTIONS_SHOWN = 500;

export class AdminApi {
  constructor(
    private readonly view: LiveView,
    private readonly reader: StorageReader,
  ) {}

  /** `segments`: the decoded path after `/api/`; `query`: the URL's search parameters. */
  async handle(segments: readonly string[], query: URLSearchParams): Promise<ApiResponse> {
    try {
      return await this.route(segments, query);
    } catch (error) {
      if (error instanceof BadRequest || error instanceof BadCursorError) return { status: 400, body: { error: error.message } };
      throw error;
    }
  }

  private async route(segments: readonly string[], query: URLSearchParams): Promise<ApiResponse> {
    const [first, party, rooms, room, storage, ...rest] = segments;
    if (first !== "parties") return notFound("no such API");
    if (party === undefined) return this.parties();
    if (!this.view.hasParty(party)) return notFound(`party ${party} not found`);
    if (rooms !== "rooms") return notFound("no such API");
    if (room === undefined) return this.rooms(party, query);
    if (storage === undefined) return this.room(party, room, query);
    if (storage === "storage" && rest.length === 1) return this.value(party, room, rest[0]!);
    return notFound("no such API");
  }

  private parties(): ApiResponse {
    const parties = this.view.partyNames().map((name) => ({ name, ...this.view.counts(name)! }));
    return { status: 200, body: { parties } };
  }

  private async rooms(party: string, query: URLSearchParams): Promise<ApiResponse> {
    const page = await listRoomsPage(this.view, this.reader, party, query.get("cursor") ?? undefined, pageSize(query));
    return { status: 200, body: { party, ...page } };
  }

  private async room(party: string, id: string, query: URLSearchParams): Promise<ApiResponse> {
    const ref = { party, room: id };
    const live = this.view.room(party, id);
    const connections = [];
    let total = 0;
    if (live !== undefined) {
      for (const connection of live.connections()) {
        total++;
        if (connections.length < MAX_CONNECTIONS_SHOWN) connections.push({ ...connection, state: showValue(connection.state) });
      }
    }
    const prefix = query.get("prefix") ?? "";
    const cursor = query.get("cursor");
    const limit = pageSize(query);
    const entries = await this.reader.list(ref, {
      ...(prefix ? { prefix } : {}),
      ...(cursor ? { startAfter: decodeCursor(cursor) } : {}),
      limit: limit + 1,
    });
    const keys = entries.slice(0, limit).map(([key, bytes]) => ({ key, size: bytes.byteLength, type: typeOf(bytes) }));
    const alarm = await this.reader.getAlarm(ref);
    return {
      status: 200,
      body: {
        party,
        room: id,
        live: live !== undefined,
        resident: live?.resident ?? false,
        hibernated: live?.hibernated ?? false,
        hibernates: live?.hibernates ?? null,
        sockets: total,
        connections,
        alarm: alarm === null ? null : { time: alarm, iso: new Date(alarm).toISOString() },
        storage: { prefix, keys, next: entries.length > limit ? encodeCursor(keys[keys.length - 1]!.key) : null },
      },
    };
  }

  private async value(party: string, room: string, key: string): Promise<ApiResponse> {
    const found = await this.reader.get({ party, room }, [key]);
    const bytes = found.get(key);
    if (bytes === undefined) return notFound(`no key ${JSON.stringify(key)} in ${party}/${room}`);
    let shown;
    try {
      shown = showValue(decodeValue(bytes));
    } catch {
      shown = { type: "undecodable" };
    }
    // `size` last: it is the stored byte size, whatever the shown value carries.
    return { status: 200, body: { party, room, key, ...shown, size: bytes.byteLength } };
  }
}

class BadRequest extends Error {}

function notFound(error: string): ApiResponse {
  return { status: 404, body: { error } };
}

function pageSize(query: URLSearchParams): number {
  const raw = query.get("limit");
  if (raw === null) return DEFAULT_PAGE;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > MAX_PAGE) throw new BadRequest(`limit must be a whole number from 1 to ${MAX_PAGE}`);
  return limit;
}

/** The value's type for a key listing: "json" when JSON holds it exactly, else its type name. */
function typeOf(bytes: Uint8Array): string {
  try {
    const shown = showValue(decodeValue(bytes));
    return "json" in shown ? "json" : shown.type;
  } catch {
    return "undecodable";
  }
}
