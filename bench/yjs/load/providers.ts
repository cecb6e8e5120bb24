// Real editors for the one-document memory scenario (issue 23): `y-partykit/provider`'s
// YPartyKitProvider, each with its own Y.Doc and awareness (a name and a cursor), exactly as a
// browser tab runs it, so the server sees the provider's own sync, awareness renewals (every 15 s)
// and reconnect behaviour. `edit` makes one editor insert a text of `bytes` characters and waits
// until every editor of this process has it.
import WebSocket from "ws";
// The namespace import, since y-partykit's CommonJS-style types and NodeNext disagree on `default`.
import * as providerModule from "y-partykit/provider";
import * as Y from "yjs";
import { serveLoad } from "../ipc.js";

interface ConnectParams {
  port: number;
  room: string;
  count: number;
  firstIndex: number;
}

interface Editor {
  doc: Y.Doc;
  provider: YPartyKitProvider;
}

type YPartyKitProvider = InstanceType<typeof providerModule.WebsocketProvider>;
const YPartyKitProvider = (providerModule as unknown as { default: unknown }).default as new (
  host: string,
  room: string,
  doc: Y.Doc,
  options: { WebSocketPolyfill: typeof globalThis.WebSocket; disableBc: boolean },
) => YPartyKitProvider;
const editors: Editor[] = [];
const Polyfill = WebSocket as unknown as typeof globalThis.WebSocket;

function synced(provider: YPartyKitProvider, timeoutMs: number): Promise<void> {
  if (provider.synced) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`provider not synced after ${timeoutMs} ms`)), timeoutMs);
    provider.once("synced", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 50);
    };
    poll();
  });
}

async function open({ port, room, firstIndex }: ConnectParams, index: number): Promise<void> {
  const doc = new Y.Doc();
  const provider = new YPartyKitProvider(`127.0.0.1:${port}`, room, doc, { WebSocketPolyfill: Polyfill, disableBc: true });
  provider.awareness.setLocalState({ user: { name: `editor ${firstIndex + index}`, color: "#30bced" }, cursor: { anchor: 0, head: 0 } });
  editors.push({ doc, provider });
  await synced(provider, 120_000);
}

serveLoad({
  async connect(params: ConnectParams) {
    // A few handshakes at a time, as tabs open.
    let next = 0;
    const worker = async () => {
      while (next < params.count) await open(params, next++);
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    return editors.length;
  },
  /** One editor (the first of this process, if `write`) types `bytes` characters; all wait for them. */
  async edit({ bytes, write }: { bytes: number; write: boolean }) {
    if (write) editors[0]!.doc.getText("t").insert(0, "x".repeat(bytes));
    await until(() => editors.every((e) => e.doc.getText("t").length >= bytes), `the ${bytes}-character edit on every editor`, 120_000);
    return editors.length;
  },
  async close() {
    for (const { doc, provider } of editors) {
      provider.destroy();
      provider.awareness.destroy();
      doc.destroy();
    }
    editors.length = 0;
  },
});
