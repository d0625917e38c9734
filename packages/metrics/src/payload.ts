/** What goes through `incoming::data` and `outgoing::data`: text, or bytes in one of Node's shapes. */
export type Frame = unknown;

/** The server's decoder, to confirm that a short binary frame is a control message. */
export type Decode = (frame: Frame) => unknown;

const CONTROL = 'primus::';
const CONTROL_BYTES = Buffer.from(CONTROL);
/** Control messages are short: the longest, `primus::id::<uuid>`, is 48 characters. */
const MAX_CONTROL_BYTES = 96;
/** Binary codecs put a header of a few bytes before a string. */
const MAX_HEADER_BYTES = 5;

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

function bytesOf(frame: Frame): Buffer | undefined {
  if (frame instanceof Uint8Array) return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame instanceof ArrayBuffer) return Buffer.from(frame);
  return undefined;
}

/**
 * Whether a frame is one of the protocol's own messages (a ping, a pong, the close notice, an id):
 * a string that starts with `primus::`, as encoded. JSON text has it right after the opening
 * quote. A binary codec puts a short header first, so a short binary frame with `primus::` in its
 * first bytes is decoded to be sure (an array holding such a string looks the same up to there).
 * An application cannot send such a string as data anyway: clients read it as a control message.
 */
export function isControl(frame: Frame, decode: Decode): boolean {
  if (typeof frame === 'string') return frame.charCodeAt(0) === 34 && frame.startsWith(CONTROL, 1);
  const bytes = bytesOf(frame);
  if (!bytes || bytes.length > MAX_CONTROL_BYTES) return false;
  const at = bytes.indexOf(CONTROL_BYTES);
  if (at < 1 || at > MAX_HEADER_BYTES) return false;
  try {
    const value = decode(frame);
    return typeof value === 'string' && value.startsWith(CONTROL);
  } catch {
    return false;
  }
}
