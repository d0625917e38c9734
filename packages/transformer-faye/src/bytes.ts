/** faye-websocket sends only a Buffer as a binary frame; any other byte view would go out as the text "1,2,3". */
export function toBuffer(payload: string | Buffer | Uint8Array | ArrayBuffer): string | Buffer {
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) return payload;
  if (payload instanceof ArrayBuffer) return Buffer.from(payload);
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}
