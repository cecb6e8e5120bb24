/**
 * The y-websocket wire protocol, as `y-partykit/provider` and `y-websocket` speak it: every
 * binary message starts with a varuint type. Sync messages carry y-protocols' sync step 1 / step 2
 * / update; awareness messages carry an awareness update; "query awareness" asks a client to
 * resend its awareness state. Built on y-protocols' public encoders and lib0.
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import * as syncProtocol from "y-protocols/sync";
import type * as Y from "yjs";

export const MESSAGE_SYNC = 0;
export const MESSAGE_AWARENESS = 1;
export const MESSAGE_AUTH = 2;
export const MESSAGE_QUERY_AWARENESS = 3;

/** A sync step 1 (our state vector): the client answers with a step 2 holding what we lack. */
export function syncStep1Message(doc: Y.Doc): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  syncProtocol.writeSyncStep1(encoder, doc);
  return encoding.toUint8Array(encoder);
}

/** A sync update message carrying `update` (what a change is broadcast as). */
export function updateMessage(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  syncProtocol.writeUpdate(encoder, update);
  return encoding.toUint8Array(encoder);
}

/** An awareness message around an encoded awareness update. */
export function awarenessMessage(awarenessUpdate: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
  encoding.writeVarUint8Array(encoder, awarenessUpdate);
  return encoding.toUint8Array(encoder);
}

/** Asks a client to send its awareness state again (both providers answer it). */
export function queryAwarenessMessage(): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_QUERY_AWARENESS);
  return encoding.toUint8Array(encoder);
}

/** What a client's sync message asks of the server. */
export type SyncRequest =
  | { kind: "step1"; stateVector: Uint8Array }
  | { kind: "update"; update: Uint8Array };

/** Reads the body of a sync message (after its type); step 2 and update both carry an update. */
export function readSyncRequest(decoder: decoding.Decoder): SyncRequest {
  const kind = decoding.readVarUint(decoder);
  switch (kind) {
    case syncProtocol.messageYjsSyncStep1:
      return { kind: "step1", stateVector: decoding.readVarUint8Array(decoder) };
    case syncProtocol.messageYjsSyncStep2:
    case syncProtocol.messageYjsUpdate:
      return { kind: "update", update: decoding.readVarUint8Array(decoder) };
    default:
      throw new Error(`unknown sync message type ${kind}`);
  }
}

/** The answer to a sync step 1: a step 2 with everything the client's state vector lacks. */
export function syncStep2Message(doc: Y.Doc, stateVector: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  syncProtocol.writeSyncStep2(encoder, doc, stateVector);
  return encoding.toUint8Array(encoder);
}
