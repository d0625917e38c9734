import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
const r = await build({ entryPoints: ['../client/src/browser.ts'], bundle: true, minify: true, format: 'esm', target: ['es2018'], platform: 'browser', write: false, alias: { eventemitter3: '../client/src/emitter.ts' }, mangleProps: /^_/, reserveProps: /^(_write|_primuscb|_primusrecovery)$/, legalComments: 'none', logLevel:'error' });
const code = r.outputFiles[0].text; console.log(code.length, gzipSync(code,{level:9}).length);
