/** An encoded Primus payload, exactly as the core sends it to a spark. */
export type Payload = string | Buffer | Uint8Array;

/** The header of a message between servers. */
export type Header =
  /** A broadcast: every server but the sender delivers it to its sparks. */
  | { t: 'b'; f: string; bin?: 1 }
  /** Deliver to one spark of the receiving server and answer with an `a`. */
  | { t: 's'; f: string; r: number; s: string; bin?: 1 }
  /** The answer to a send: whether the spark got it. */
  | { t: 'a'; f: string; r: number; ok: boolean }
  /** With recovery: a message for one spark of the receiving server, after its position in the cluster's order. */
  | { t: 'd'; f: string; s: string; bin?: 1 }
  /** With recovery: server `f` took over the session of spark `s`; the receiver's spark is stale. */
  | { t: 'm'; f: string; s: string }
  /** With recovery: a mark server `f` sends itself, to learn where the cluster's order stands. */
  | { t: 'p'; f: string };

/** A decoded message between servers. */
export interface Envelope {
  header: Header;
  /** The payload; absent for answers. */
  payload: Payload | undefined;
}

const NEWLINE = 0x0a;

/**
 * One message on the wire: the header as one line of JSON, then the payload as the parser made it.
 * JSON never contains a raw newline, so the first one ends the header, and the payload is carried
 * byte for byte, binary or not, without being encoded again.
 */
export function pack(header: Header, payload?: Payload): string | Buffer {
  if (payload !== undefined && typeof payload !== 'string') {
    return Buffer.concat([Buffer.from(JSON.stringify({ ...header, bin: 1 }) + '\n'), payload]);
  }
  return JSON.stringify(header) + '\n' + (payload ?? '');
}

/** Read a message from the wire; undefined when it is not one of ours. */
export function unpack(message: Buffer): Envelope | undefined {
  const end = message.indexOf(NEWLINE);
  if (end === -1) return undefined;
  let header: Header;
  try {
    header = JSON.parse(message.toString('utf8', 0, end));
  } catch {
    return undefined;
  }
  if (!header || typeof header !== 'object' || typeof header.f !== 'string') return undefined;
  if (header.t === 'a') return { header, payload: undefined };
  if (header.t === 'm') return typeof header.s === 'string' ? { header, payload: undefined } : undefined;
  if (header.t === 'p') return { header, payload: undefined };
  if (header.t !== 'b' && header.t !== 's' && header.t !== 'd') return undefined;
  if (header.t === 's' && (typeof header.s !== 'string' || typeof header.r !== 'number')) return undefined;
  if (header.t === 'd' && typeof header.s !== 'string') return undefined;
  const payload = header.bin ? message.subarray(end + 1) : message.toString('utf8', end + 1);
  return { header, payload };
}
