/** Helpers for the Yjs tests: real providers (y-partykit's and y-websocket's) against a test server. */
import { setTimeout as sleep } from "node:timers/promises";
import WebSocket from "ws";
import { WebsocketProvider } from "y-websocket";
import YPartyKitProvider from "y-partykit/provider";
import * as Y from "yjs";

export async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A provider and its document; `destroy` stops the provider and its awareness timer. */
export interface Editor {
  doc: Y.Doc;
  provider: YPartyKitProvider | WebsocketProvider;
  readonly synced: boolean;
  destroy(): void;
}

function editor(doc: Y.Doc, provider: YPartyKitProvider | WebsocketProvider): Editor {
  return {
    doc,
    provider,
    get synced() {
      return provider.synced;
    },
    destroy() {
      provider.destroy();
      provider.awareness.destroy();
    },
  };
}

const Polyfill = WebSocket as unknown as typeof globalThis.WebSocket;

/** y-partykit's provider (`/parties/<party>/<room>`). */
export function partykitEditor(port: number, room: string, options: { party?: string; params?: Record<string, string> } = {}): Editor {
  const doc = new Y.Doc();
  const provider = new YPartyKitProvider(`127.0.0.1:${port}`, room, doc, {
    WebSocketPolyfill: Polyfill,
    disableBc: true,
    ...(options.party ? { party: options.party } : {}),
    ...(options.params ? { params: options.params } : {}),
  });
  return editor(doc, provider);
}

/** y-websocket's provider, pointed at the same URL shape. */
export function websocketEditor(port: number, room: string, party = "main"): Editor {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(`ws://127.0.0.1:${port}/parties/${party}`, room, doc, {
    WebSocketPolyfill: Polyfill,
    disableBc: true,
  });
  return editor(doc, provider);
}

/** Every editor's document has the same content (Y.Text "t", Y.Map "m", Y.Array "a"). */
export function converged(editors: readonly Editor[], expect: (doc: Y.Doc) => boolean): boolean {
  const first = JSON.stringify(contentOf(editors[0]!.doc));
  return editors.every((e) => expect(e.doc) && JSON.stringify(contentOf(e.doc)) === first);
}

export function contentOf(doc: Y.Doc): { t: string; m: Record<string, unknown>; a: unknown[] } {
  // Map keys sorted: each replica's toJSON lists keys in the order it received them.
  const m = Object.fromEntries(Object.entries(doc.getMap("m").toJSON()).sort(([x], [y]) => (x < y ? -1 : 1)));
  return { t: doc.getText("t").toString(), m, a: doc.getArray("a").toJSON() };
}
