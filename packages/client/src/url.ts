import { optionError } from './errors';
import type { PrimusClient } from './client';

/** A URL split the way the client needs it; `query` keeps its leading `?`. */
export interface ParsedUrl {
  href: string;
  protocol: string;
  /** `user:pass`, as written (percent-encoded), or '' */
  auth: string;
  /** Host and port exactly as written; IPv6 literals keep their brackets. */
  host: string;
  hostname: string;
  port: string;
  pathname: string;
  /** The query string including its `?`, or '' */
  query: string;
  hash: string;
  /**
   * For `ws+unix:` URLs, the Unix domain socket to connect to (decoded), '' otherwise. `pathname`
   * is then the HTTP path written after the socket (`ws+unix:///app.sock:/primus`), or ''.
   */
  socketPath: string;
}

/**
 * How `ws+unix:` URLs are parsed: the Node entry installs the parser (unix.ts); in primus.js it is
 * left out, as no browser reaches a Unix domain socket.
 */
export const unixUrls: { parse?: (input: string, client: PrimusClient) => ParsedUrl } = {};

/** Parse an absolute URL; a protocol-relative one takes `base`'s protocol. */
export function parseUrl(input: string, base?: string, client?: PrimusClient): ParsedUrl {
  if (/^ws\+unix:/i.test(input)) {
    if (unixUrls.parse) return unixUrls.parse(input, client!);
    throw optionError(`Primus: cannot use ${JSON.stringify(input)}: Unix domain sockets are reached from Node clients only, not from browsers`);
  }
  let url: URL;
  try {
    url = new URL(input, base);
  } catch {
    throw optionError(`Primus: cannot parse the url ${JSON.stringify(input)}; pass an absolute url such as "http://localhost:8080"`);
  }
  const { href, protocol, username, password, host, hostname, port, pathname, search, hash } = url;
  const auth = username ? (password ? `${username}:${password}` : username) : '';
  return { href, protocol, auth, host, hostname, port, pathname, query: search, hash, socketPath: '' };
}

/** Parse a query string (with or without `?`) into an object. Later duplicates win. */
export function parseQuery(query: string): Record<string, string> {
  const result: Record<string, string> = Object.create(null);
  const text = query.charAt(0) === '?' ? query.slice(1) : query;
  if (!text) return result;
  for (const part of text.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = decode(eq === -1 ? part : part.slice(0, eq));
    const value = eq === -1 ? '' : decode(part.slice(eq + 1));
    if (key) result[key] = value;
  }
  return result;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** Serialise an object as `k=v&k=v` with `encodeURIComponent`. */
export function stringifyQuery(query: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const key of Object.keys(query)) {
    const value = query[key];
    parts.push(encodeURIComponent(key) + '=' + encodeURIComponent(value === undefined || value === null ? '' : String(value)));
  }
  return parts.join('&');
}

// yeast's alphabet, 0-9 A-Z a-z - _, built from base 36 digits: the literal costs the browser
// bundle more gzipped bytes than any error message.
const base36 = Array.from({ length: 36 }, (_, i) => i.toString(36)).join('');
const alphabet = base36.toUpperCase() + base36.slice(10) + '-_';
let previous = '';
let seed = 0;

function encode(num: number): string {
  let encoded = '';
  do {
    encoded = alphabet[num % 64] + encoded;
    num = Math.floor(num / 64);
  } while (num > 0);
  return encoded;
}

/**
 * A time-based id: `Date.now()` in base 64, plus `.n` for repeats within one millisecond. Used as
 * the `_primuscb` cache buster, as happn-primus does.
 */
export function yeast(): string {
  const now = encode(Date.now());
  if (now !== previous) {
    seed = 0;
    previous = now;
    return now;
  }
  return now + '.' + encode(seed++);
}
