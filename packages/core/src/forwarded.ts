import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';

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

// Proxy headers in the order they are trusted: the first one present wins.
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

function stripMapped(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
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
 * present is believed, whoever sent it: any client can claim any address. With `trusted`, proxy
 * headers count only when the direct peer is a trusted proxy, and the address is the right-most
 * hop that is not itself a trusted proxy.
 */
export function forwarded(remote: RemoteLike | null | undefined, headers: IncomingHttpHeaders = {}, trusted?: ReadonlySet<string>): Address {
  const peer = peerAddress(remote);
  if (trusted && !trusted.has(stripMapped(peer.ip))) return peer;

  for (const [ipHeader, portHeader, protoHeader] of proxyHeaders) {
    const ips = list(headerValue(headers, ipHeader));
    if (ips.length === 0 || !ips.every((ip) => isIP(ip))) continue;
    const ports = list(headerValue(headers, portHeader));
    let index = 0;
    if (trusted) {
      index = ips.length - 1;
      while (index > 0 && trusted.has(stripMapped(ips[index]!))) index--;
    }
    const port = Number.parseInt(ports[index] ?? ports[0] ?? '', 10);
    const proto = (headerValue(headers, protoHeader) ?? '').split(',')[0]!.trim().toLowerCase();
    return {
      ip: ips[index]!,
      port: Number.isInteger(port) && port >= 0 && port <= 65535 ? port : peer.port,
      secure: proto ? proto === 'https' || proto === '1' || proto === 'wss' : peer.secure,
    };
  }
  return peer;
}
