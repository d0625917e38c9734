import { isIP } from 'node:net';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import parseForwarded from 'forwarded-parse';
import proxyaddr from 'proxy-addr';
import { invalidOption } from './errors';

/** Where a connection comes from, after proxies. */
export interface Address {
  ip: string;
  port: number;
  /** True when the client reached the edge over TLS. */
  secure: boolean;
}

/** Anything that can tell the direct peer: a socket, a request, or `{ remoteAddress, remotePort }`. */
export interface RemoteLike {
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
  encrypted?: boolean;
  address?: { address?: string; port?: number } | (() => unknown);
  connection?: RemoteLike | null;
  socket?: RemoteLike | null;
}

/** Whether `addr`, hop `i` counted from the server (0 is the direct peer), is a trusted proxy. */
export type TrustProxy = (addr: string, i: number) => boolean;

/**
 * Compile the `trustedProxies` option with proxy-addr: IP addresses, CIDR ranges (`10.0.0.0/8`,
 * `fd00::/8`), netmasks (`10.0.0.0/255.0.0.0`) and proxy-addr's names `loopback`, `linklocal`
 * and `uniquelocal`. An IPv4 entry also matches its IPv4-mapped IPv6 form. Throws the option's
 * TypeError for anything else.
 */
export function compileTrustedProxies(value: unknown): TrustProxy {
  const expected = 'an array of IP addresses or CIDR ranges (such as "10.0.0.0/8")';
  if (!Array.isArray(value)) throw invalidOption('trustedProxies', expected, value);
  for (const entry of value) {
    if (typeof entry !== 'string') throw invalidOption('trustedProxies', expected, entry);
    try {
      proxyaddr.compile(entry);
    } catch {
      throw invalidOption('trustedProxies', expected, entry);
    }
  }
  return proxyaddr.compile(value as string[]);
}

/** One hop of a proxy header, client side first. */
interface Hop {
  ip: string;
  port?: number;
  /** The `proto` a `Forwarded` element gives for the connection it describes. */
  proto?: string;
}

// Proxy headers in the order they are read: the first one present with valid addresses wins.
const proxyHeaders: readonly [ip: string, port: string, proto: string][] = [
  ['fastly-client-ip', 'fastly-client-port', 'fastly-ssl'],
  ['x-forwarded-for', 'x-forwarded-port', 'x-forwarded-proto'],
  ['z-forwarded-for', 'z-forwarded-port', 'z-forwarded-proto'],
  ['forwarded', 'forwarded-port', 'forwarded-proto'],
  ['x-real-ip', 'x-real-port', 'x-real-proto'],
];

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function list(value: string | undefined): string[] {
  return value ? value.split(',').map((part) => part.trim()) : [];
}

/** Read `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:4711`; null when it is none of those. */
function parseNode(node: string): Hop | null {
  let ip = node.trim();
  let port: string | undefined;
  if (ip.startsWith('[')) {
    const close = ip.indexOf(']');
    const rest = ip.slice(close + 1);
    if (close < 0 || (rest && !rest.startsWith(':'))) return null;
    if (rest) port = rest.slice(1);
    ip = ip.slice(1, close);
    if (isIP(ip) !== 6) return null;
  } else if (!isIP(ip)) {
    const colon = ip.indexOf(':');
    if (colon < 0 || colon !== ip.lastIndexOf(':') || isIP(ip.slice(0, colon)) !== 4) return null;
    port = ip.slice(colon + 1);
    ip = ip.slice(0, colon);
  }
  if (port === undefined) return { ip };
  const number = /^\d{1,5}$/.test(port) ? Number(port) : -1;
  return number >= 0 && number <= 65535 ? { ip, port: number } : null;
}

/**
 * The hops a header lists, client side first, or null when it is absent or any hop is not an
 * address. `Forwarded` is read as RFC 7239 (`for=...;proto=...`); a plain list of addresses in
 * it, which happn-primus accepted, is read as before.
 */
function hopsOf(headers: IncomingHttpHeaders, name: string): Hop[] | null {
  const value = headerValue(headers, name);
  if (!value) return null;
  let nodes: { node: string; proto?: string }[];
  if (name === 'forwarded' && value.includes('=')) {
    let elements: Record<string, string>[];
    try {
      elements = parseForwarded(value);
    } catch {
      return null;
    }
    nodes = elements.map((element) => ({ node: element.for ?? '', proto: element.proto }));
  } else nodes = list(value).map((node) => ({ node }));
  const hops: Hop[] = [];
  for (const { node, proto } of nodes) {
    const hop = parseNode(node);
    if (!hop) return null;
    if (proto) hop.proto = proto.toLowerCase();
    hops.push(hop);
  }
  return hops.length ? hops : null;
}

/** The direct peer of a connection. */
export function peerAddress(remote: RemoteLike | null | undefined): Address {
  let node: RemoteLike | null | undefined = remote;
  for (let depth = 0; node && depth < 3; depth++) {
    if (node.remoteAddress) {
      return { ip: node.remoteAddress, port: node.remotePort ?? 0, secure: !!node.encrypted };
    }
    const address = node.address;
    if (address && typeof address === 'object' && address.address) {
      return { ip: address.address, port: address.port ?? 0, secure: false };
    }
    node = node.connection ?? node.socket;
  }
  return { ip: '127.0.0.1', port: 0, secure: false };
}

/**
 * Work out the client's address from proxy headers, falling back to the direct peer.
 *
 * Without `trusted` (the default, as in happn-primus) the first address of the first proxy header
 * present is believed, whoever sent it: any client can claim any address. With `trusted` (a set of
 * addresses, or a function from `compileTrustedProxies`), proxy headers count only when the
 * direct peer is a trusted proxy, and the address is the right-most hop that is not itself a
 * trusted proxy, as proxy-addr (Express's `trust proxy`) decides it.
 */
export function forwarded(remote: RemoteLike | null | undefined, headers: IncomingHttpHeaders = {}, trusted?: ReadonlySet<string> | TrustProxy): Address {
  const peer = peerAddress(remote);
  const trust = trusted === undefined ? undefined : typeof trusted === 'function' ? trusted : compileTrustedProxies([...trusted]);
  if (trust && !trust(peer.ip, 0)) return peer;

  for (const [ipHeader, portHeader, protoHeader] of proxyHeaders) {
    const hops = hopsOf(headers, ipHeader);
    if (!hops) continue;
    let index = 0;
    if (trust) {
      // proxy-addr walks from the direct peer towards the client and stops after the first
      // address it does not trust; what it returns holds the peer plus the hops it walked.
      const request = { headers: { 'x-forwarded-for': hops.map((hop) => hop.ip).join(', ') }, socket: { remoteAddress: peer.ip } };
      const walked = proxyaddr.all(request as unknown as IncomingMessage, trust).length - 1;
      index = hops.length - walked;
    }
    const hop = hops[index]!;
    const ports = list(headerValue(headers, portHeader));
    const port = hop.port ?? Number.parseInt(ports[index] ?? ports[0] ?? '', 10);
    const proto = hop.proto ?? (headerValue(headers, protoHeader) ?? '').split(',')[0]!.trim().toLowerCase();
    return {
      ip: hop.ip,
      port: Number.isInteger(port) && port >= 0 && port <= 65535 ? port : peer.port,
      secure: proto ? proto === 'https' || proto === '1' || proto === 'wss' : peer.secure,
    };
  }
  return peer;
}
