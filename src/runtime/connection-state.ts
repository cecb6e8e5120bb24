import { deserialize, serialize } from "node:v8";
import type { SocketRecord } from "./socket-record.js";

/**
 * Where a connection's state lives: the point where in-memory and hibernating rooms differ.
 * Stateless policies over SocketRecord fields, so a socket carries no extra object.
 */
export interface ConnectionStatePolicy {
  read(record: SocketRecord): unknown;
  /** The state for inspection (admin API): like read(), but caches nothing on the record. */
  peek(record: SocketRecord): unknown;
  write(record: SocketRecord, value: unknown): void;
  readAttachment(record: SocketRecord): unknown;
  writeAttachment(record: SocketRecord, value: unknown): void;
  /** The room is dropping its instance: forget anything that only lives as long as it. */
  hibernate(record: SocketRecord): void;
}

/** In-memory rooms: the state is the value itself, unbounded; the attachment is a separate slot. */
export const inMemoryState: ConnectionStatePolicy = {
  read: (record) => (record.state === undefined ? null : record.state),
  peek: (record) => (record.state === undefined ? null : record.state),
  write(record, value) {
    record.state = value === null ? undefined : value;
  },
  readAttachment: (record) => (record.attachment === undefined ? null : record.attachment),
  writeAttachment(record, value) {
    record.attachment = value;
  },
  hibernate() {},
};

/** PartyKit's per-socket attachment limit, counted over `{ __pk: { id, uri }, __user: state }`. */
export const MAX_ATTACHMENT_BYTES = 2048;

/**
 * The serialized state is kept as a one-byte string (latin1 maps each byte to one character and
 * back exactly), not as the Buffer v8.serialize returns: a hibernated socket's 100-byte state then
 * costs one ~120-byte heap string instead of a Uint8Array and an ArrayBuffer (~180 bytes of heap)
 * with a backing store malloc'd outside the heap. bench:hibernation: 4.26 → 3.8–4.1 KiB of RSS
 * per idle socket (issue 23).
 */
function deserializeState(serialized: string): unknown {
  return deserialize(Buffer.from(serialized, "latin1"));
}

/**
 * Hibernating rooms: the state survives the instance, so it is kept serialized and, with the
 * id and uri, limited to 2048 bytes. The attachment and the state are one slot. Like
 * PartyKit, which caches the attachment per socket, reads give back the same object (the one
 * set, or one deserialization) until the room hibernates; only the serialized copy survives
 * that. The cache uses the `attachment` field, which hibernating rooms do not otherwise use.
 */
export const hibernatingState: ConnectionStatePolicy = {
  read(record) {
    if (record.state === undefined) return null;
    return (record.attachment ??= deserializeState(record.state as string));
  },
  peek(record) {
    if (record.state === undefined) return null;
    return record.attachment ?? deserializeState(record.state as string);
  },
  write(record, value) {
    if (value === null || value === undefined) {
      record.state = undefined;
      record.attachment = undefined;
      return;
    }
    const size = serialize({ __pk: { id: record.id, uri: record.uri }, __user: value }).length;
    if (size > MAX_ATTACHMENT_BYTES) {
      throw new Error(
        `A WebSocket 'attachment' cannot be larger than ${MAX_ATTACHMENT_BYTES} bytes.'attachment' was ${size} bytes.`,
      );
    }
    record.state = serialize(value).toString("latin1");
    record.attachment = value;
  },
  readAttachment(record) {
    return this.read(record);
  },
  writeAttachment(record, value) {
    this.write(record, value);
  },
  hibernate(record) {
    record.attachment = undefined;
  },
};
