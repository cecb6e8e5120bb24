/**
 * y-partykit's function API on partyhouse's Yjs room: change
 * `import { onConnect } from "y-partykit"` to `import { onConnect } from "partyhouse/yjs"`.
 *
 * Same signature and options (`persist`, `gc`, `callback`, `load`, `readOnly`); what differs:
 * - `persist: { mode: "snapshot" | "history" }` and `true` all persist through partyhouse's update
 *   log (appended per turn, compacted to a snapshot); `history.maxBytes` sets when it compacts,
 *   `maxUpdates` is ignored. `gc` keeps y-partykit's default (off while persisting), and `gc`
 *   together with `persist` is allowed.
 * - Changes reach other clients only once they are durable in storage.
 * - The document is keyed by the room instance, not by `room.id` across parties, and an idle
 *   document (no sync traffic for 30 s) is dropped from memory and reloaded when needed.
 * - Listeners are attached per connection, as in y-partykit, so a class using this must not
 *   hibernate; `YServer` is the hibernating way in.
 */
import * as Y from "yjs";
import type * as Party from "../types/party.js";
import { fetchCallback, type YPartyKitCallbackOptions } from "./callback.js";
import { YRoom, type YRoomConfig } from "./y-room.js";

export type YPartyKitPersistenceStrategy = { mode: "history"; maxUpdates?: number; maxBytes?: number } | { mode: "snapshot" };

export interface YPartyKitOptions {
  /** Yjs garbage collection; default: off when persisting, on otherwise (as y-partykit). */
  gc?: boolean;
  /** Persist in room storage (default false, as y-partykit). */
  persist?: YPartyKitPersistenceStrategy | boolean;
  /** Called (debounced) with the document after changes, or POSTs its named objects to a URL. */
  callback?: YPartyKitCallbackOptions;
  /** Loads initial content when the document is created (not logged). */
  load?: () => Promise<Y.Doc | null>;
  /** Every connection of this call only reads: its updates are ignored. */
  readOnly?: boolean;
}

const rooms = new WeakMap<Party.Room, YRoom>();
const readOnlyConnections = new WeakSet<Party.Connection>();

function roomConfig(room: Party.Room, options: YPartyKitOptions): YRoomConfig {
  const persist = options.persist ?? false;
  const maxBytes = typeof persist === "object" && persist.mode === "history" ? persist.maxBytes : undefined;
  const callback = options.callback;
  const load = options.load;
  return {
    gc: options.gc ?? !persist,
    persist: persist === false ? false : maxBytes !== undefined ? { compactAfterBytes: maxBytes } : {},
    unloadAfterMs: 30_000,
    // Renewals relayed in batches, as YServer does (renewal-batch.ts).
    awarenessBatchMs: 1_000,
    ...(load
      ? {
          onLoad: async (doc: Y.Doc) => {
            const source = await load();
            if (source) Y.applyUpdate(doc, Y.encodeStateAsUpdate(source));
          },
        }
      : {}),
    ...(callback
      ? {
          onSave: {
            run: (doc: Y.Doc) => fetchCallback(room, doc, callback),
            wait: callback.debounceWait ?? 2000,
            maxWait: callback.debounceMaxWait ?? 10_000,
          },
        }
      : {}),
    isReadOnly: (connection) => readOnlyConnections.has(connection),
    onError: (error, where) => console.error(`[partyhouse/yjs] ${room.name}/${room.id}: ${where} failed:`, error),
  };
}

/** The room's engine; the options of the first call win, as in y-partykit. */
function yroomOf(room: Party.Room, options: YPartyKitOptions): YRoom {
  let yroom = rooms.get(room);
  if (!yroom) rooms.set(room, (yroom = new YRoom(room, roomConfig(room, options))));
  return yroom;
}

export async function onConnect(connection: Party.Connection, room: Party.Room, options: YPartyKitOptions = {}): Promise<void> {
  const yroom = yroomOf(room, options);
  if (options.readOnly) readOnlyConnections.add(connection);
  connection.addEventListener("message", (event: MessageEvent) => {
    const data: unknown = event.data;
    if (typeof data === "string" || data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
      void Promise.resolve(yroom.message(connection, data)).catch((error: unknown) => console.error(error));
    }
  });
  connection.addEventListener("close", () => yroom.close(connection));
  connection.addEventListener("error", () => yroom.close(connection));
  await yroom.connect(connection);
}

/**
 * The room's document, loaded if needed (y-partykit's `unstable_getYDoc`). It is the live
 * document until it is dropped as idle (30 s without sync traffic); call again rather than keep it.
 */
export function unstable_getYDoc(room: Party.Room, options: YPartyKitOptions = {}): Promise<Y.Doc> {
  return yroomOf(room, options).getDocument();
}
