/**
 * y-partykit's `callback` option: after changes (debounced), call a handler with the document,
 * or POST `{ room, data: { [name]: { type, content } } }` with the named objects to a URL.
 */
import type * as Y from "yjs";
import type * as Party from "../types/party.js";

interface CallbackTiming {
  debounceWait?: number;
  debounceMaxWait?: number;
  /** Timeout of the POST (default 5,000 ms). */
  timeout?: number;
  /** Named objects to send: name → "Array" | "Map" | "Text" | "XmlFragment" | "XmlElement". */
  objects?: Record<string, string>;
}

export type YPartyKitCallbackOptions =
  | (CallbackTiming & { handler: (doc: Y.Doc) => void | Promise<void>; url?: never })
  | (CallbackTiming & { url: string; headers?: Headers; handler?: never });

function content(doc: Y.Doc, name: string, type: string): unknown {
  switch (type) {
    case "Array":
      return doc.getArray(name).toJSON();
    case "Map":
      return doc.getMap(name).toJSON();
    case "Text":
      return doc.getText(name).toJSON();
    case "XmlFragment":
      return doc.getXmlFragment(name).toJSON();
    case "XmlElement":
      return doc.getXmlElement(name).toJSON();
    default:
      throw new Error(`Unknown shared object type: ${type}`);
  }
}

export async function fetchCallback(room: Party.Room, doc: Y.Doc, callback: YPartyKitCallbackOptions): Promise<void> {
  if (callback.handler) {
    await callback.handler(doc);
    return;
  }
  if (!callback.url) return;
  const data: Record<string, { type: string; content: unknown }> = {};
  for (const [name, type] of Object.entries(callback.objects ?? {})) data[name] = { type, content: content(doc, name, type) };
  const response = await fetch(callback.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(callback.headers ? Object.fromEntries(callback.headers) : {}) },
    body: JSON.stringify({ room: room.id, data }),
    signal: AbortSignal.timeout(callback.timeout ?? 5000),
  });
  if (!response.ok) throw new Error(`callback POST failed: HTTP ${response.status} ${await response.text()}`);
}
