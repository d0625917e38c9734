// usage: node exp.mjs file.js -> size after esbuild minify + gzip
import { readFileSync } from 'node:fs';
import { transform } from 'esbuild';
import { gzipSync } from 'node:zlib';
for (const f of process.argv.slice(2)) {
  const src = readFileSync(f, 'utf8');
  const { code } = await transform(src, { minify: true, loader: 'js', target: 'es2018', logLevel: 'silent' });
  console.log(f, code.length, gzipSync(code, { level: 9 }).length);
}
