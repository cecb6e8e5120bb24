/**
 * Server-to-client WebSocket frames (RFC 6455 §5.2): unmasked, final, no extensions. Used to
 * encode a broadcast once and write the same bytes to every recipient instead of letting
 * each socket re-encode and re-frame it.
 */
const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;

export function encodeFrame(payload: Buffer, binary: boolean): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x80 | (binary ? OPCODE_BINARY : OPCODE_TEXT);
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(length, 6);
  }
  payload.copy(frame, headerLength);
  return frame;
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
