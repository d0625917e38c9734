import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isAbsolute, join } from 'node:path';
import { PrimusError } from './errors';
import type { PrimusOptions } from './primus';
import type { Spark } from './server-spark';

/** Options of `Primus.createServer()`: Primus options plus where and how to listen. */
export interface CreateServerOptions extends PrimusOptions {
  /** Port to listen on; 443 means HTTPS. @default 443 */
  port?: number;
  /** Host to bind. @default all interfaces */
  hostname?: string;
  /** Set false to create the server without listening. @default true */
  listen?: boolean;
  /** Folder that relative certificate file names are resolved against. @default process.cwd() */
  root?: string;
  /** TLS key: PEM text, a Buffer, or a file name. */
  key?: string | Buffer;
  /** TLS certificate: PEM text, a Buffer, or a file name. */
  cert?: string | Buffer;
  /** CA certificates: PEM text, Buffers or file names. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** PKCS#12 bundle: a Buffer or a file name. */
  pfx?: string | Buffer;
  /** Passphrase of the key or pfx. */
  passphrase?: string;
}

function material(value: string | Buffer, root: string, binary: boolean): string | Buffer {
  if (Buffer.isBuffer(value) || value.includes('-----BEGIN')) return value;
  const file = isAbsolute(value) ? value : join(root, value);
  return binary ? readFileSync(file) : readFileSync(file, 'utf8');
}

/** What `createServerWith()` builds the server with: `Primus`, or a class extending it. */
export interface PrimusClass<P> {
  new (server: http.Server | https.Server, options: PrimusOptions): P;
}

/**
 * Create an HTTP or HTTPS server with a `Server` attached, listening at once (`Primus.createServer()`
 * calls it with its own class). HTTPS is used when a key and certificate (or a pfx) are given, or
 * when the port is 443 (the default port).
 */
export function createServerWith<P extends { on(event: 'connection', fn: (spark: Spark) => void): unknown }>(
  Server: PrimusClass<P>,
  fn?: ((spark: Spark) => void) | CreateServerOptions,
  options?: CreateServerOptions,
): P {
  if (typeof fn === 'object' && fn !== null) {
    options = fn;
    fn = undefined;
  }
  const opts: CreateServerOptions = { ...(options ?? {}) };
  const port = opts.port ?? 443;
  const root = opts.root ?? process.cwd();
  const tls: https.ServerOptions = {};
  if (opts.key) tls.key = material(opts.key, root, false);
  if (opts.cert) tls.cert = material(opts.cert, root, false);
  if (opts.pfx) tls.pfx = material(opts.pfx, root, true);
  if (opts.ca) tls.ca = (Array.isArray(opts.ca) ? opts.ca : [opts.ca]).map((ca) => material(ca, root, false));
  if (opts.passphrase) tls.passphrase = opts.passphrase;
  const hasCerts = !!(tls.key && tls.cert) || !!tls.pfx;
  if (port === 443 && !hasCerts) {
    throw new PrimusError('PRIMUS_ERR_HTTPS', 'Missing the SSL key or certificate files in the options (port 443 means HTTPS; give key and cert, or another port)');
  }
  const server = hasCerts ? https.createServer(tls) : http.createServer();
  if (!hasCerts && !opts.iknowhttpsisbetter) {
    console.warn(
      [
        'primus: You are running Primus over plain HTTP. Connections can be read and altered by',
        'primus: anyone on the path, and proxies and virus scanners often break WebSockets over',
        'primus: HTTP. Use HTTPS; set iknowhttpsisbetter: true to silence this warning.',
      ].join('\n'),
    );
  }
  const primus = new Server(server, opts);
  if (typeof fn === 'function') primus.on('connection', fn);
  if (opts.listen !== false) server.listen(port, opts.hostname);
  return primus;
}
