// The client side of the y-websocket protocol for load processes, without a Y.Doc per client: the
// frames a provider sends (sync step 1, its awareness, the reply to the server's step 1) are built
// once with the same encoders partyhouse/yjs uses, and incoming frames are classified by their
// first bytes. What the server sees is what a real provider holding an empty document sends.
import * as Y from "yjs";
import { encodeAwarenessUpdate } from "../../src/yjs/awareness-store.js";
import { MESSAGE_AWARENESS, MESSAGE_SYNC, awarenessMessage, syncStep1Message, updateMessage } from "../../src/yjs/protocol.js";
import { encodeFrame } from "../lib/ws-raw.js";

const OP_BINARY = 0x2;

export function binaryFrame(payload: Uint8Array): Buffer {
  return encodeFrame(OP_BINARY, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
}

const empty = new Y.Doc();
/** A provider's first message: sync step 1 with an empty state vector. */
export const step1Frame = binaryFrame(syncStep1Message(empty));
/** The answer to the server's step 1 from a client that has nothing the server lacks. */
export const emptyStep2Frame = (() => {
  const update = Y.encodeStateAsUpdate(empty);
  const bytes = new Uint8Array(2 + 1 + update.length);
  bytes.set([MESSAGE_SYNC, 1, update.length]);
  bytes.set(update, 3);
  return binaryFrame(bytes);
})();

/** An awareness message as a provider renews it: a user name and a cursor. */
export function awarenessFrame(clientId: number, clock: number): Buffer {
  const state = JSON.stringify({ user: { name: `editor-${clientId}`, color: "#30bced" }, cursor: { anchor: clientId % 97, head: clientId % 97 } });
  return binaryFrame(awarenessMessage(encodeAwarenessUpdate([{ clientId, clock, state }])));
}

export function updateFrame(update: Uint8Array): Buffer {
  return binaryFrame(updateMessage(update));
}

export type Incoming = "step1" | "step2" | "update" | "awareness" | "other";

export function classify(payload: Buffer): Incoming {
  if (payload[0] === MESSAGE_AWARENESS) return "awareness";
  if (payload[0] !== MESSAGE_SYNC) return "other";
  return payload[1] === 0 ? "step1" : payload[1] === 1 ? "step2" : "update";
}

/**
 * Fan-out updates carry their sequence number inside the pushed string, between two marker bytes,
 * so a receiver learns the newest update a (possibly merged) message holds from one native search
 * instead of decoding it.
 */
export const SEQ_START = 0x01;
const SEQ_END = 0x02;

export function seqString(seq: number): string {
  return `\u0001${seq}\u0002 typed`;
}

/** The highest sequence number in a message, or -1. */
export function lastSeq(payload: Buffer): number {
  const start = payload.lastIndexOf(SEQ_START);
  if (start < 0) return -1;
  const end = payload.indexOf(SEQ_END, start);
  return end < 0 ? -1 : Number(payload.toString("latin1", start + 1, end));
}
