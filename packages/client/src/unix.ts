import { optionError } from './errors';
import type { ClientTransport } from './transport';
import type { ParsedUrl } from './url';

// `ws+unix:` URLs, for Node clients only: the Node entry (index.ts) installs this parser, and the
// browser build (primus.js) leaves it out, as no browser reaches a Unix domain socket.

/**
 * Parse a `ws+unix:` URL the way `ws` writes them, `ws+unix://[user:pass@]/path/to.sock[:/http/path][?query]`:
 * the path up to the first `:` is the socket, the rest the HTTP path. The WHATWG parser refuses
 * credentials without a host, so this one is by hand. Requests go to host `localhost`.
 */
export function parseUnixUrl(input: string): ParsedUrl {
  const [, auth = '', host = '', path = '', query = '', hash = ''] = /^ws\+unix:(?:\/\/(?:([^@/?#]*)@)?([^/?#]*))?([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(input)!;
  const colon = path.indexOf(':');
  const socket = colon === -1 ? path : path.slice(0, colon);
  const pathname = colon === -1 ? '' : path.slice(colon + 1);
  if ((host && host !== 'localhost') || (socket && socket.charAt(0) !== '/') || (pathname && pathname.charAt(0) !== '/')) {
    throw optionError(`Primus: cannot parse the url ${JSON.stringify(input)}; write a Unix domain socket as "ws+unix:///path/to.sock" or "ws+unix:///path/to.sock:/http/path"`);
  }
  let socketPath = socket;
  try {
    socketPath = decodeURIComponent(socket);
  } catch {
    // A stray `%` is part of the file name.
  }
  return { href: input, protocol: 'ws+unix:', auth, host: 'localhost', hostname: 'localhost', port: '', pathname, query, hash, socketPath };
}

/**
 * A client's `ws+unix:` URL (from `parseUnixUrl()`), completed from the compiled pathname and
 * checked against the transport, which must be able to reach a Unix domain socket.
 */
export function completeUnixUrl(url: ParsedUrl, client: { readonly pathname: string; readonly client: ClientTransport }): ParsedUrl {
  // happn-primus took the socket from a compiled pathname such as `/app.sock:/primus`
  // (`Primus.createSocket({ pathname })`) and ignored the URL's path.
  const compiled = client.pathname;
  const colon = compiled.indexOf(':');
  if (!url.socketPath && colon > 0) {
    url.socketPath = compiled.slice(0, colon);
    url.pathname = url.pathname || compiled.slice(colon + 1);
  }
  if (!url.socketPath) throw optionError(`Primus: the url ${JSON.stringify(url.href)} names no socket; write it as "ws+unix:///path/to.sock"`);
  if (!client.client.unixSocket) {
    throw optionError(
      `Primus: the ${client.client.name} transformer's client cannot connect to a Unix domain socket (${url.href}); the client README lists the transformers that can`,
    );
  }
  return url;
}
