import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/**
 * Node's HTTP parser allocates every header name and value afresh for each request, and a spark
 * keeps its request (and so those strings) for as long as the connection lives. Most of them are
 * the same on every connection: `Upgrade`, `websocket`, `13`, the extension offer, the host, the
 * browser's user agent. Swapping each for one shared copy cannot be observed by a program
 * (strings compare by value) and saves a few hundred bytes per idle connection.
 */

/** Headers whose values usually repeat from one connection to the next. */
const REPEATING = new Set([
  'accept',
  'accept-encoding',
  'accept-language',
  'cache-control',
  'connection',
  'host',
  'origin',
  'pragma',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'sec-websocket-version',
  'upgrade',
  'user-agent',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-proto',
]);

/** Longer strings are rare enough as repeats that pooling them is not worth the lookup. */
const MAX_POOLED_LENGTH = 512;

/**
 * A bounded pool of strings. When it is full it starts over, so a client sending a new value on
 * every request costs the pool nothing lasting.
 */
export class StringPool {
  private readonly strings = new Map<string, string>();

  constructor(private readonly limit = 1024) {}

  /** The pooled copy of `value`, pooling it if it is new. */
  share(value: string): string {
    if (value.length > MAX_POOLED_LENGTH) return value;
    const pooled = this.strings.get(value);
    if (pooled !== undefined) return pooled;
    if (this.strings.size >= this.limit) this.strings.clear();
    this.strings.set(value, value);
    return value;
  }

  /**
   * Replace the repeating strings of a connection's headers (and of its request's `rawHeaders`,
   * where the names are not lower-cased and so are separate strings too) by pooled copies.
   */
  shareHeaders(headers: IncomingHttpHeaders, request?: IncomingMessage): void {
    for (const name in headers) {
      const value = headers[name];
      if (typeof value === 'string' && REPEATING.has(name)) headers[name] = this.share(value);
    }
    const raw = request?.rawHeaders;
    if (!Array.isArray(raw)) return;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      raw[i] = this.share(name);
      if (REPEATING.has(name.toLowerCase())) raw[i + 1] = this.share(raw[i + 1]!);
    }
  }
}
