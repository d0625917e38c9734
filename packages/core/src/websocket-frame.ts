/**
 * An unmasked, final text or binary WebSocket frame (RFC 6455 section 5.2) holding `payload`,
 * header and payload in one buffer: what a server-side WebSocket library writes for `send()` on a
 * connection without extensions. Transformers that write their own frames (per-tick batching,
 * broadcast frames built once: see `TransformerServer.frame`) build them with this.
 */
export function websocketFrame(payload: string | Uint8Array): Buffer {
  const text = typeof payload === 'string';
  const length = text ? Buffer.byteLength(payload) : payload.byteLength;
  const head = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + length);
  frame[0] = text ? 0x81 : 0x82;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  if (text) frame.write(payload, head, 'utf8');
  else frame.set(payload, head);
  return frame;
}
