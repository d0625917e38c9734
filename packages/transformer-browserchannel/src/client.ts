import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import url from 'node:url';
import type { ClientTransport, TransportHost, UriOptions } from '@primus/client';
import { source } from '../generated/browser';
import { NodeXMLHttpRequest, loadImage, withImageHeaders } from './node-xhr';
import { browserchannelTransport, type BCSocketConstructor, type BCSocketLike } from './transport';

const NODE_CLIENT = 'browserchannel/dist/node-bcsocket-uncompressed.js';

let nodeBCSocket: BCSocketConstructor | undefined;

/**
 * browserchannel's Node client (closure's BrowserChannel plus the BCSocket wrapper), evaluated
 * once with its two Node helpers replaced: `../XMLHttpRequest` by `NodeXMLHttpRequest` (the
 * shipped one sends a `Host` header without the port) and `request` by `loadImage` (the shipped
 * one loads the deprecated `request` package, and the image it fetches is only ever a probe or the
 * terminate request). Everything else is browserchannel's own code, unchanged.
 */
function loadNodeBCSocket(): BCSocketConstructor {
  if (nodeBCSocket) return nodeBCSocket;
  const filename = require.resolve(NODE_CLIENT);
  const code = readFileSync(filename, 'utf8');
  const modules: Record<string, unknown> = {
    url,
    request: loadImage,
    '../XMLHttpRequest': { XMLHttpRequest: NodeXMLHttpRequest },
  };
  const localRequire = (id: string): unknown => {
    if (!(id in modules)) throw new Error(`browserchannel's Node client asked for an unexpected module: ${id}`);
    return modules[id];
  };
  const module = { exports: {} as { BCSocket?: BCSocketConstructor } };
  // The CommonJS wrapper Node itself would use, in this realm; sourceURL keeps stack traces
  // pointing at the file.
  const evaluate = new Function('exports', 'require', 'module', '__filename', '__dirname', `${code}\n//# sourceURL=${filename}`);
  evaluate.call(module.exports, module.exports, localRequire, module, filename, dirname(filename));
  const BCSocket = module.exports.BCSocket;
  if (typeof BCSocket !== 'function') throw new Error(`${NODE_CLIENT} did not export BCSocket`);
  nodeBCSocket = BCSocket;
  return BCSocket;
}

/** The Node BCSocket, loaded on first use; `close()` sends the terminate request with the socket's extra headers. */
const NodeBCSocket = function NodeBCSocket(target: string, options: Record<string, unknown>): BCSocketLike {
  const BCSocket = loadNodeBCSocket();
  const socket = new BCSocket(target, options);
  const close = socket.close;
  const headers = options.extraHeaders as Record<string, string> | undefined;
  socket.close = () => withImageHeaders(headers, () => close.call(socket));
  return socket;
} as unknown as BCSocketConstructor;

const transport = browserchannelTransport(NodeBCSocket, { channel: 'Fc', handler: 'e', retryBase: 'jc', retrySpread: 'Dc' });

/**
 * The host of a `ws+unix:` client, whose URLs name the socket as `http+unix://<socket path,
 * percent-encoded>/...`: BrowserChannel keeps that scheme and host in every request it makes,
 * and the Node requests (`startRequest`) connect to the socket.
 */
function unixHost(host: TransportHost): TransportHost {
  const socket = encodeURIComponent(host.url.socketPath);
  return {
    url: host.url,
    pathname: host.pathname,
    transportOptions: host.transportOptions,
    avoidWebsockets: host.avoidWebsockets,
    uri(options?: UriOptions) {
      const uri = host.uri(options);
      return typeof uri === 'string' ? uri.replace(/^http:\/\/([^@/]*@)?localhost/, `http+unix://$1${socket}`) : uri;
    },
  };
}

/**
 * The Node client half: browserchannel's Node client. `options.transport` is passed to BCSocket
 * (`extraHeaders`, `appVersion`, `failFast`, `affinity`, ...), except `testImageUri`, which
 * the transport applies itself. It reaches Unix domain sockets (`ws+unix:///path/to.sock`).
 */
export const client: ClientTransport = {
  name: transport.name,
  unixSocket: true,
  connect: (host, events) => transport.connect(host.url.socketPath ? unixHost(host) : host, events),
};

/** The browser client half: browserchannel's browser client (closure-compiled BCSocket), bundled. */
export const browser = (): string => `(${source}).transport`;
