import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

// An application installs every published package as npm would receive it: each package packed
// with `pnpm pack` (workspace ranges replaced by real ones), the tarballs installed with npm into a
// scratch application, third-party dependencies from the registry. No overrides: the ranges the
// packages declare must by themselves leave one copy of the core and of the client, and the
// application must run, as an ES module and as CommonJS.

const run = promisify(execFile);
const workspace = join(__dirname, '..', '..', '..');
const packagesDir = join(workspace, 'packages');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
}

const published = readdirSync(packagesDir)
  .filter((dir) => existsSync(join(packagesDir, dir, 'package.json')))
  .map((dir) => ({ dir, json: JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8')) as Manifest }))
  .filter(({ json }) => !json.private);

let app = '';

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'primus-packed-app-'));
  const tarballs = join(app, 'tarballs');
  mkdirSync(tarballs);
  // pnpm starts slowly: two packs at a time.
  const queue = [...published];
  const pnpm = join(workspace, 'node_modules', '.bin', 'pnpm');
  await Promise.all(
    [0, 1].map(async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        await run(pnpm, ['pack', '--pack-destination', tarballs], { cwd: join(packagesDir, next.dir) });
      }
    }),
  );
  const dependencies = Object.fromEntries(published.map(({ json }) => [json.name, `file:tarballs/${json.name.slice(1).replace('/', '-')}-${json.version}.tgz`]));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'packed-app', private: true, dependencies }, null, 2));
  // --ignore-scripts: the lws transformer's install script builds its native addon, which this
  // application does not load.
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], {
    cwd: app,
    maxBuffer: 16 << 20,
  });

  const echo = (imports: string) => `${imports}
const server = http.createServer();
const primus = new Primus(server, { transformer: 'websockets' });
primus.on('connection', (spark) => spark.on('data', (data) => spark.write({ echo: data })));
server.listen(0, '127.0.0.1', () => {
  const client = new primus.Socket('http://127.0.0.1:' + server.address().port);
  client.on('data', (data) => {
    console.log(JSON.stringify({ data, sameTransformer: primus.transformer === transformer }));
    client.end();
    primus.destroy();
  });
  client.write({ hello: 'from the packed app' });
});
`;
  writeFileSync(
    join(app, 'app.mjs'),
    echo(`import http from 'node:http';
import { Primus } from '@primus/core';
import '@primus/transformer-ws';
const { default: transformer } = await import('@primus/transformer-ws');`),
  );
  writeFileSync(
    join(app, 'app.cjs'),
    echo(`const http = require('node:http');
const { Primus } = require('@primus/core');
require('@primus/transformer-ws');
const transformer = require('@primus/transformer-ws').default;`),
  );
}, 240_000);

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

/** Every installed copy of a package: the directories under node_modules that hold it. */
function copiesOf(name: string, dir = join(app, 'node_modules')): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    const scoped = entry.startsWith('@') ? readdirSync(join(dir, entry)).map((inner) => `${entry}/${inner}`) : [entry];
    for (const pkg of scoped) {
      const path = join(dir, pkg);
      if (pkg === name) found.push(relative(app, path));
      found.push(...copiesOf(name, join(path, 'node_modules')));
    }
  }
  return found;
}

async function start(script: string): Promise<{ data: unknown; sameTransformer: boolean }> {
  // jest's launcher sets NODE_PATH to the workspace's hoisted packages, which an application would not see.
  const { stdout } = await run(process.execPath, [script], { cwd: app, env: { ...process.env, NODE_PATH: '' }, timeout: 30_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as { data: unknown; sameTransformer: boolean };
}

describe('an application built from the packed packages', () => {
  it('installs every published package', () => {
    for (const { json } of published) {
      expect(copiesOf(json.name).length).toBeGreaterThan(0);
    }
  });

  it('holds one copy of @primus/core, one of @primus/client and one of @primus/protocol', async () => {
    expect(copiesOf('@primus/core')).toEqual(['node_modules/@primus/core']);
    expect(copiesOf('@primus/client')).toEqual(['node_modules/@primus/client']);
    // The error classes live there: a second copy would break `instanceof PrimusError`.
    expect(copiesOf('@primus/protocol')).toEqual(['node_modules/@primus/protocol']);
    // npm agrees: every path to the core and the client in its tree leads to that one copy.
    const { stdout } = await run('npm', ['ls', '@primus/core', '@primus/client', '--all', '--parseable'], { cwd: app, maxBuffer: 16 << 20 });
    const paths = [...new Set(stdout.split('\n').filter((line) => /node_modules\/@primus\/(core|client)$/.test(line)))].map((line) => relative(app, line)).sort();
    expect(paths).toEqual(['node_modules/@primus/client', 'node_modules/@primus/core']);
  });

  it('runs as an ES module: starts a server and echoes a message to its client', async () => {
    await expect(start('app.mjs')).resolves.toEqual({ data: { echo: { hello: 'from the packed app' } }, sameTransformer: true });
  });

  it('runs as CommonJS: starts a server and echoes a message to its client', async () => {
    await expect(start('app.cjs')).resolves.toEqual({ data: { echo: { hello: 'from the packed app' } }, sameTransformer: true });
  });
});
