import { Sender } from "ws";

// ws exports its frame encoder (`Sender.frame`, public so that a broadcast can be framed once);
// @types/ws does not declare it.
declare module "ws" {
  export class Sender {
    static frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[];
  }
}

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;

/**
 * A server-to-client WebSocket frame (RFC 6455 §5.2: unmasked, final, no extensions) as one
 * buffer, so a broadcast is framed once and the same bytes are written to every recipient
 * instead of each socket re-encoding and re-framing it.
 */
export function serverFrame(payload: Buffer, binary: boolean): Buffer {
  const parts = Sender.frame(payload, { fin: true, opcode: binary ? OPCODE_BINARY : OPCODE_TEXT, mask: false, readOnly: false, rsv1: false });
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * What `send(value)` sends, as workerd's WebIDL conversion for `(ArrayBuffer or ArrayBufferView
 * or USVString)` gives it: binary data as is, anything else as its string (`42` → "42",
 * `{a: 1}` → "[object Object]", `null` → "null"); a Symbol throws a TypeError, as there.
 */
export function outgoingMessage(message: unknown): string | ArrayBuffer | ArrayBufferView {
  if (typeof message === "string" || message instanceof ArrayBuffer || ArrayBuffer.isView(message)) return message;
  return `${message as string}`;
}

/** The bytes of an outgoing message, and whether it goes as a binary frame. */
export function messageBytes(message: unknown): { bytes: Buffer; binary: boolean } {
  const converted = outgoingMessage(message);
  if (typeof converted === "string") return { bytes: Buffer.from(converted, "utf8"), binary: false };
  if (converted instanceof ArrayBuffer) return { bytes: Buffer.from(converted), binary: true };
  return { bytes: Buffer.from(converted.buffer, converted.byteOffset, converted.byteLength), binary: true };
}
