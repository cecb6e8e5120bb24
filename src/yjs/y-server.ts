/**
 * `YServer`: a Party.Server that is a Yjs room. Extend it (or use it as is):
 *
 *   export default class Doc extends YServer {}
 *
 * It hibernates by default and persists the document in room storage. Override the hooks to
 * load from or save to your own store (`onLoad`, `onSave`), to refuse edits (`isReadOnly`) or to
 * take custom string messages (`onCustomMessage`). If you override onConnect, onMessage, onClose
 * or onError, call `super`'s and return what it returns (onMessage's promise keeps the room awake
 * while a batch of awareness renewals waits to be relayed).
 */
import type * as Y from "yjs";
import type * as Party from "../types/party.js";
import { documentResponse } from "./document-http.js";
import type { UpdateLogOptions } from "./update-log.js";
import { YRoom } from "./y-room.js";

export interface YServerOptions {
  /**
   * Persistence in room storage: an update log compacted into a snapshot (default `true`).
   * `false` keeps the document in memory only (then use onLoad/onSave); an object tunes compaction.
   */
  persist?: boolean | UpdateLogOptions;
  /** Yjs garbage collection of deleted content (default true; false keeps it, for version history). */
  gc?: boolean;
  /** Drop the in-memory document after this many ms without document traffic, even while awake (default 30,000; 0 never). */
  unloadAfterMs?: number;
  /**
   * Awareness renewals (a provider re-sending its unchanged state every 15 s) and newcomers' first
   * states are held this long and relayed to every editor in one message (default 1,000 ms; 0
   * relays each at once). Changes (cursor moves, removals) are never held. Keep it well under
   * y-protocols' 30 s outdated timeout.
   */
  awarenessBatchMs?: number;
  /** onSave runs this long after the last change (default 2,000 ms)... */
  saveDebounceMs?: number;
  /** ...and at least this often while changes keep coming (default 10,000 ms). */
  saveMaxWaitMs?: number;
}

const DEFAULTS = { unloadAfterMs: 30_000, awarenessBatchMs: 1_000, saveDebounceMs: 2_000, saveMaxWaitMs: 10_000 };

export class YServer implements Party.Server {
  /** Hibernates by default; set `{ hibernate: false }` to keep the instance while anyone is connected. */
  readonly options: Party.ServerOptions = { hibernate: true };
  /** Yjs settings; override in a subclass (`override readonly yjsOptions = { ... }`). */
  readonly yjsOptions: YServerOptions = {};
  private engine: YRoom | undefined;

  constructor(readonly room: Party.Room) {}

  /** The room engine, built on first use (after subclass fields are set). */
  protected get yroom(): YRoom {
    if (this.engine) return this.engine;
    const options = this.yjsOptions;
    const persist = options.persist ?? true;
    const hasOnSave = this.onSave !== YServer.prototype.onSave;
    const hasOnLoad = this.onLoad !== YServer.prototype.onLoad;
    this.engine = new YRoom(this.room, {
      gc: options.gc ?? true,
      persist: persist === false ? false : persist === true ? {} : persist,
      unloadAfterMs: options.unloadAfterMs ?? DEFAULTS.unloadAfterMs,
      awarenessBatchMs: options.awarenessBatchMs ?? DEFAULTS.awarenessBatchMs,
      ...(hasOnLoad ? { onLoad: (doc: Y.Doc) => this.onLoad(doc) } : {}),
      ...(hasOnSave
        ? {
            onSave: {
              run: (doc: Y.Doc) => this.onSave(doc),
              wait: options.saveDebounceMs ?? DEFAULTS.saveDebounceMs,
              maxWait: options.saveMaxWaitMs ?? DEFAULTS.saveMaxWaitMs,
            },
          }
        : {}),
      isReadOnly: (connection) => this.isReadOnly(connection),
      onCustomMessage: (connection, message) => this.onCustomMessage(connection, message),
      onError: (error, where) => console.error(`[partyhouse/yjs] ${this.room.name}/${this.room.id}: ${where} failed:`, error),
    });
    return this.engine;
  }

  // ---- hooks ------------------------------------------------------------------------------------

  /** After the document was rebuilt from storage: load from your own store into `doc` here. */
  onLoad(_doc: Y.Doc): void | Promise<void> {}

  /** Debounced after changes: save `doc` to your own store here. */
  onSave(_doc: Y.Doc): void | Promise<void> {}

  /** Whether a connection may only read: its updates are ignored. Evaluated per message. */
  isReadOnly(_connection: Party.Connection): boolean {
    return false;
  }

  /** A custom string message (sent by y-partyserver's provider as `sendMessage`). */
  onCustomMessage(_connection: Party.Connection, _message: string): void {}

  // ---- the document -----------------------------------------------------------------------------

  /** The document, loaded from storage if it is not in memory. */
  getDocument(): Promise<Y.Doc> {
    return this.yroom.getDocument();
  }

  sendCustomMessage(connection: Party.Connection, message: string): void {
    this.yroom.sendCustomMessage(connection, message);
  }

  broadcastCustomMessage(message: string, without?: Party.Connection): void {
    this.yroom.broadcastCustomMessage(message, without);
  }

  // ---- Party.Server -----------------------------------------------------------------------------

  onConnect(connection: Party.Connection, _ctx: Party.ConnectionContext): void | Promise<void> {
    return this.yroom.connect(connection);
  }

  onMessage(message: string | ArrayBuffer | ArrayBufferView, sender: Party.Connection): void | Promise<void> {
    return this.yroom.message(sender, message);
  }

  onClose(connection: Party.Connection): void | Promise<void> {
    this.yroom.close(connection);
  }

  onError(connection: Party.Connection, _error: Error): void | Promise<void> {
    this.yroom.close(connection);
  }

  /** GET reads the document (see document-http.ts); anything a WebSocket client can read anyway. */
  async onRequest(request: Party.Request): Promise<Response> {
    return documentResponse(await this.getDocument(), request);
  }
}
