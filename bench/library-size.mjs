// Size of the browser library each server hands to browsers, minified with esbuild and gzipped at
// level 9: the bytes a browser downloads over a compressed connection. Usage:
//   node library-size.mjs '<json: [{ id, kind, transformer?, transformerDir?, parserDir? }]>'
// `parserDir` (kind primus-ts) builds the library with that parser package instead of JSON.
// Prints one JSON array on stdout and exits.
import http from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { transform } from 'esbuild';

const require = createRequire(import.meta.url);

async function minifiedGzip(source) {
  const { code } = await transform(source, { minify: true, loader: 'js', target: 'es2018', logLevel: 'silent' });
  return { raw: Buffer.byteLength(source), minified: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length };
}

async function primusTs(transformerDir, parserDir) {
  const { Primus } = await import('@primus/core');
  const mod = await import(pathToFileURL(join(transformerDir, 'dist/index.js')).href);
  const parser = parserDir ? await import(pathToFileURL(join(parserDir, 'dist/index.js')).href) : undefined;
  const primus = new Primus(http.createServer(), { transformer: mod.default ?? mod, ...(parser ? { parser: parser.default ?? parser } : {}) });
  const source = primus.library();
  primus.destroy({ close: false });
  return minifiedGzip(source);
}

async function primusFamily(name, transformer = 'websockets') {
  const Primus = require(name);
  // No heartbeat timer: this server never listens. The library embeds the transformer's client
  // half (and, for engine.io and sockjs, the framework's browser client).
  const primus = new Primus(http.createServer(), { transformer, pingInterval: false });
  const source = primus.library();
  return minifiedGzip(source);
}

async function socketIoClient() {
  // The published minified bundle is what a browser loads; gzip it as it is.
  const file = join(require.resolve('socket.io-client/package.json'), '..', 'dist', 'socket.io.min.js');
  const code = readFileSync(file);
  return { raw: code.length, minified: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

const entries = JSON.parse(process.argv[2]);
const out = [];
for (const entry of entries) {
  try {
    let size;
    if (entry.kind === 'primus-ts') size = await primusTs(entry.transformerDir, entry.parserDir);
    else if (entry.kind === 'primus8') size = await primusFamily('primus', entry.transformer);
    else if (entry.kind === 'happn') size = await primusFamily('happn-primus');
    else if (entry.kind === 'socketio') size = await socketIoClient();
    else continue;
    out.push({ id: entry.id, ok: true, ...size });
  } catch (err) {
    out.push({ id: entry.id, ok: false, failure: String(err?.message ?? err) });
  }
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(0);
