/** What goes through `incoming::data` and `outgoing::data`: text, or bytes in one of Node's shapes. */
export type Frame = unknown;

const CONTROL = 'primus::';
const CONTROL_BYTES = Buffer.from(CONTROL);

/** The size of a frame in bytes: UTF-8 for text, the byte length for binary. */
export function byteLength(frame: Frame): number {
  if (typeof frame === 'string') return Buffer.byteLength(frame, 'utf8');
  if (frame instanceof ArrayBuffer || ArrayBuffer.isView(frame)) return frame.byteLength;
  if (Array.isArray(frame)) {
    let total = 0;
    for (const part of frame) total += byteLength(part);
    return total;
  }
  return 0;
}

/**
 * Whether a frame is one of the protocol's own messages (a ping, a pong, the close notice, an id):
 * a string that starts with `primus::`, as encoded. JSON text puts it right after the opening
 * quote; binary codecs put a short length header first, so bytes are looked at in the first three
 * positions of a short frame. An application cannot send such a string as data anyway: clients
 * read it as a control message.
 */
export function isControl(frame: Frame): boolean {
  if (typeof frame === 'string') return frame.charCodeAt(0) === 34 && frame.startsWith(CONTROL, 1);
  if (frame instanceof Uint8Array) {
    if (frame.length > 80) return false;
    for (let offset = 1; offset <= 2 && offset + CONTROL_BYTES.length <= frame.length; offset++) {
      if (Buffer.from(frame.buffer, frame.byteOffset + offset, CONTROL_BYTES.length).equals(CONTROL_BYTES)) return true;
    }
  }
  return false;
}
