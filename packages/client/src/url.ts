import { invalidValue } from './errors';
import type { PrimusClient } from './client';

/** True in the primus.js builds: see client.ts. */
declare const PRIMUS_BROWSER: boolean | undefined;

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
 * `ws+unix:` URLs: the Node entry installs their parser and the client's completion of them
 * (unix.ts); primus.js leaves both out, as no browser reaches a Unix domain socket.
 */
export const unixUrls: {
  parse?: (input: string) => ParsedUrl;
  complete?: (url: ParsedUrl, client: PrimusClient) => ParsedUrl;
} = {};

/**
 * Parse a URL against `base` (`base` itself when `input` is undefined); a protocol-relative one
 * takes `base`'s protocol.
 */
export function parseUrl(input: string | undefined, base?: string): ParsedUrl {
  // An undefined input is tested as the string "undefined", which is no such URL.
  if (/^ws\+unix:/i.test(input as string)) {
    if (typeof PRIMUS_BROWSER === 'undefined' && unixUrls.parse) return unixUrls.parse(input as string);
    throw invalidValue('url', 'a network URL (ws+unix: is for Node)', input);
  }
  let url: URL;
  try {
    url = new URL((input != null ? input : base) as string, base);
  } catch {
    throw invalidValue('url', 'a valid URL', input);
  }
  const { href, protocol, username, password, host, hostname, port, pathname, search, hash } = url;
  const auth = username ? (password ? `${username}:${password}` : username) : '';
  return { href, protocol, auth, host, hostname, port, pathname, query: search, hash, socketPath: '' };
}

/**
 * Parse a query string (with or without `?`) into an object, as `URLSearchParams` reads it (`+` is
 * a space; a malformed escape stays as written). Later duplicates win; an empty name is skipped.
 */
export function parseQuery(query: string): Record<string, string> {
  const result: Record<string, string> = Object.create(null);
  new URLSearchParams(query).forEach((value, key) => key && (result[key] = value));
  return result;
}

/** Serialise an object as `k=v&k=v` with `encodeURIComponent`. */
export function stringifyQuery(query: Record<string, unknown>): string {
  return Object.keys(query)
    .map((key) => {
      const value = query[key];
      return encodeURIComponent(key) + '=' + encodeURIComponent(value == null ? '' : String(value));
    })
    .join('&');
}

function encode(num: number): string {
  // primus.js writes base 36, which the browser does natively: the id is a cache buster, and only
  // its uniqueness counts. yeast's own alphabet (0-9 A-Z a-z - _) cost about 100 gzipped bytes there.
  if (typeof PRIMUS_BROWSER !== 'undefined') return num.toString(36);
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_';
  let encoded = '';
  do encoded = alphabet[num % 64] + encoded;
  while ((num = Math.floor(num / 64)));
  return encoded;
}

let previous = '';
let seed = 0;

/**
 * A time-based id: `Date.now()` in base 64 (in primus.js, base 36), plus `.n` for repeats within
 * one millisecond. Used as the `_primuscb` cache buster, as happn-primus does.
 */
export function yeast(): string {
  const now = encode(Date.now());
  return now === previous ? now + '.' + encode(seed++) : ((seed = 0), (previous = now));
}
