import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';

const UNSENT = 0;
const OPENED = 1;
const HEADERS_RECEIVED = 2;
const LOADING = 3;
const DONE = 4;

/**
 * closure's goog.Uri percent-encodes the brackets and colons of an IPv6 host
 * (`http://%5B%3A%3A1%5D:8080/...`), which no URL parser accepts; put them back.
 */
function decodeIpv6Host(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?)%5B([0-9a-f%.]*)%5D/i, (whole, start: string, host: string) => {
    try {
      return `${start}[${decodeURIComponent(host)}]`;
    } catch {
      return whole;
    }
  });
}

/**
 * Start a request to `target` with Node's http or https. `http+unix://<socket path, percent-encoded>/path`
 * goes to that Unix domain socket, with `Host: localhost`: how the Node client sends a socket's
 * requests through BrowserChannel, which keeps the URL's scheme and host as given.
 */
export function startRequest(target: URL, options: http.RequestOptions, callback?: (response: IncomingMessage) => void): http.ClientRequest {
  if (target.protocol === 'http+unix:') {
    const decode = (part: string): string => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    };
    return http.request(
      {
        ...options,
        socketPath: decode(target.hostname),
        path: target.pathname + target.search,
        auth: target.username || target.password ? `${decode(target.username)}:${decode(target.password)}` : undefined,
        headers: { Host: 'localhost', ...options.headers },
      },
      callback,
    );
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error(`unsupported protocol ${target.protocol}`);
  return (target.protocol === 'https:' ? https : http).request(target, options, callback);
}

/**
 * The XMLHttpRequest that BrowserChannel's Node client makes its requests with: the subset that
 * closure's XhrIo uses, asynchronous only, on Node's http and https modules.
 *
 * It replaces the copy browserchannel ships, which sends a `Host` header without the port and can
 * spawn a child process for synchronous requests.
 */
export class NodeXMLHttpRequest {
  readonly UNSENT = UNSENT;
  readonly OPENED = OPENED;
  readonly HEADERS_RECEIVED = HEADERS_RECEIVED;
  readonly LOADING = LOADING;
  readonly DONE = DONE;

  readyState = UNSENT;
  status = 0;
  statusText = '';
  responseText = '';
  onreadystatechange: (() => void) | null = null;

  private method = 'GET';
  private url = '';
  private headers: OutgoingHttpHeaders = {};
  private request: http.ClientRequest | null = null;
  private response: IncomingMessage | null = null;
  private sent = false;

  open(method: string, url: string): void {
    this.abort();
    this.method = method.toUpperCase();
    this.url = decodeIpv6Host(String(url));
    this.headers = {};
    this.setState(OPENED);
  }

  setRequestHeader(name: string, value: string): void {
    this.headers[name] = String(value);
  }

  send(body?: string | null): void {
    if (this.readyState !== OPENED || this.sent) throw new Error('InvalidStateError: send() needs a freshly opened request');
    this.sent = true;
    const payload = this.method === 'GET' || this.method === 'HEAD' || body == null ? undefined : String(body);
    const headers = { ...this.headers };
    if (payload !== undefined) headers['Content-Length'] = Buffer.byteLength(payload);
    let request: http.ClientRequest;
    try {
      request = startRequest(new URL(this.url), { method: this.method, headers });
    } catch (err) {
      setImmediate(() => this.fail(err));
      return;
    }
    this.request = request;
    request.on('response', (response) => {
      if (this.request !== request) return response.resume();
      this.response = response;
      this.status = response.statusCode ?? 0;
      this.statusText = response.statusMessage ?? '';
      // setEncoding keeps characters that straddle two chunks whole.
      response.setEncoding('utf8');
      this.setState(HEADERS_RECEIVED);
      response.on('data', (chunk: string) => {
        if (this.request !== request) return;
        this.responseText += chunk;
        this.setState(LOADING);
      });
      response.on('end', () => {
        if (this.request !== request) return;
        this.request = null;
        this.sent = false;
        this.setState(DONE);
      });
      response.on('error', (err) => this.request === request && this.fail(err));
    });
    request.on('error', (err) => this.request === request && this.fail(err));
    request.end(payload);
  }

  abort(): void {
    const request = this.request;
    this.request = null;
    this.response = null;
    if (request) {
      request.destroy();
      // As in browsers: an active request reports DONE, then the object is UNSENT again.
      this.status = 0;
      this.sent = false;
      this.setState(DONE);
    }
    this.readyState = UNSENT;
  }

  getResponseHeader(name: string): string | null {
    const value = this.response?.headers[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : String(value);
  }

  getAllResponseHeaders(): string {
    const headers = this.response?.headers ?? {};
    return Object.keys(headers)
      .map((name) => `${name}: ${this.getResponseHeader(name)}`)
      .join('\r\n');
  }

  /**
   * A network error: DONE, with status 0 as browsers report it, so BrowserChannel retries the
   * request (a reset connection may be a glitch). A refused connection (or a Unix domain socket
   * that is gone) means nothing listens any more: it gets status 503, as every failure does in
   * the XMLHttpRequest browserchannel ships (happn-primus's Node client), and BrowserChannel takes
   * a status above 0 as fatal. Retried, it cost about a second before the client noticed that
   * the server had gone away.
   */
  private fail(err: unknown): void {
    this.request = null;
    this.sent = false;
    const code = (err as { code?: unknown } | null)?.code;
    this.status = code === 'ECONNREFUSED' || code === 'ENOENT' ? 503 : 0;
    this.statusText = err instanceof Error ? err.message : String(err);
    this.setState(DONE);
  }

  private setState(state: number): void {
    this.readyState = state;
    this.onreadystatechange?.();
  }
}

/** Headers for the image requests made while `withImageHeaders` runs. */
let imageHeaders: Record<string, string> | undefined;

/**
 * Run `fn` with `headers` on every image request it starts. BrowserChannel's terminate request is
 * an image request, started synchronously by `close()`; with the socket's extra headers it passes
 * the same authorization as the socket's other requests.
 */
export function withImageHeaders(headers: Record<string, string> | undefined, fn: () => void): void {
  const previous = imageHeaders;
  imageHeaders = headers;
  try {
    fn();
  } finally {
    imageHeaders = previous;
  }
}

/**
 * What BrowserChannel's Node client loads as `request` for its image requests (the terminate
 * request and the network test): `(url, callback(err))`. The response body is ignored; any
 * response counts as loaded. A `data:` URL loads at once and never touches the network.
 */
export function loadImage(url: string, callback: (err: Error | null) => void): void {
  if (url.startsWith('data:')) {
    setImmediate(callback, null);
    return;
  }
  let done = false;
  const finish = (err: Error | null): void => {
    if (done) return;
    done = true;
    callback(err);
  };
  let request: http.ClientRequest;
  try {
    request = startRequest(new URL(url), { headers: imageHeaders ? { ...imageHeaders } : {} }, (response) => {
      response.resume();
      finish(null);
    });
  } catch (err) {
    setImmediate(callback, err as Error);
    return;
  }
  request.on('error', finish).end();
}
