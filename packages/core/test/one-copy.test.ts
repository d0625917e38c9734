import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

// An application installs the published packages (packed from this workspace's builds, as
// `npm publish` would ship them) and names its transformer. Whichever module system it is written
// in, the process must hold one copy of the core, the client, the protocol kernel and the parser,
// and the transformer the core loaded must be the one the application would import. The
// transformer imports the core's contract entry (`@primus/core/contract`), of the same module
// system.

const run = promisify(execFile);
const workspace = join(__dirname, '..', '..', '..');
const packages = ['core', 'client', 'protocol', 'parser-json', 'transformer-ws'];
// A third-party transformer, named by the convention ('websocket-node').
const thirdParty = { dir: join(workspace, 'examples', 'transformer-websocket-node'), name: 'primus-transformer-websocket-node' };

let app = '';

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'primus-one-copy-'));
  const tarballs = join(app, 'tarballs');
  for (const dir of packages) {
    await run(join(workspace, 'node_modules', '.bin', 'pnpm'), ['pack', '--pack-destination', tarballs], { cwd: join(workspace, 'packages', dir) });
  }
  await run(join(workspace, 'node_modules', '.bin', 'pnpm'), ['pack', '--pack-destination', tarballs], { cwd: thirdParty.dir });
  const file = (dir: string) => `file:tarballs/primus-${dir}-0.1.0.tgz`;
  const dependencies: Record<string, string> = Object.fromEntries(packages.map((dir) => [`@primus/${dir}`, file(dir)]));
  dependencies[thirdParty.name] = `file:tarballs/${thirdParty.name}-0.1.0.tgz`;
  // The packed core depends on "@primus/client": "^0.1.0" (and both on "@primus/protocol"); point
  // those ranges at the tarballs too.
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, dependencies, overrides: dependencies }));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: app });

  // Every script V8 has compiled, from the inspector: both module systems' files are listed.
  const loadedFiles = `
    function loadedFiles() {
      const { Session } = require('node:inspector');
      const session = new Session();
      session.connect();
      const urls = new Set();
      session.on('Debugger.scriptParsed', ({ params }) => urls.add(params.url.replace(/^file:\\/\\//, '')));
      session.post('Debugger.enable');
      session.post('Debugger.disable');
      session.disconnect();
      return [...urls]
        .map((url) => /\\/node_modules\\/((@primus\\/|primus-transformer-)[^/]+\\/.*)$/.exec(url)?.[1])
        .filter(Boolean)
        .sort();
    }`;
  // One ES module and one CommonJS application naming `transformer`, which `pkg` provides.
  const apps = (suffix: string, transformer: string, pkg: string): void => {
    writeFileSync(
      join(app, `app${suffix}.mjs`),
      `import http from 'node:http';
      import { createRequire } from 'node:module';
      import { Primus } from '@primus/core';
      const require = createRequire(import.meta.url);
      ${loadedFiles}
      const primus = new Primus(http.createServer(), { transformer: '${transformer}' });
      const imported = (await import('${pkg}')).default;
      console.log(JSON.stringify({ same: primus.transformer === imported, files: loadedFiles() }));
      primus.destroy();`,
    );
    writeFileSync(
      join(app, `app${suffix}.cjs`),
      `const http = require('node:http');
      const { Primus } = require('@primus/core');
      ${loadedFiles}
      const primus = new Primus(http.createServer(), { transformer: '${transformer}' });
      const required = require('${pkg}').default;
      console.log(JSON.stringify({ same: primus.transformer === required, files: loadedFiles() }));
      primus.destroy();`,
    );
  };
  apps('', 'websockets', '@primus/transformer-ws');
  apps('-third-party', 'websocket-node', thirdParty.name);
}, 180_000);

afterAll(() => rmSync(app, { recursive: true, force: true }));

async function start(script: string): Promise<{ same: boolean; files: string[] }> {
  // pnpm's jest launcher sets NODE_PATH to its hoisted packages, which an application would not see.
  const { stdout } = await run(process.execPath, [script], { cwd: app, env: { ...process.env, NODE_PATH: '' } });
  return JSON.parse(stdout) as { same: boolean; files: string[] };
}

describe('one copy of each package in an application that names its transformer', () => {
  it('loads only the ES module builds in an ES module application', async () => {
    const { same, files } = await start('app.mjs');
    expect(files).toEqual([
      '@primus/client/dist/index.js',
      '@primus/core/dist/contract.js',
      '@primus/core/dist/index.js',
      '@primus/parser-json/dist/index.js',
      '@primus/protocol/dist/index.js',
      '@primus/transformer-ws/dist/index.js',
    ]);
    expect(same).toBe(true);
  });

  it('loads only the CommonJS builds in a CommonJS application', async () => {
    const { same, files } = await start('app.cjs');
    expect(files).toEqual([
      '@primus/client/dist/index.cjs',
      '@primus/core/dist/contract.cjs',
      '@primus/core/dist/index.cjs',
      '@primus/parser-json/dist/index.cjs',
      '@primus/protocol/dist/index.cjs',
      '@primus/transformer-ws/dist/index.cjs',
    ]);
    expect(same).toBe(true);
  });

  it('loads the ES module build of a third-party transformer named by the convention', async () => {
    const { same, files } = await start('app-third-party.mjs');
    expect(files).toEqual([
      '@primus/client/dist/index.js',
      '@primus/core/dist/contract.js',
      '@primus/core/dist/index.js',
      '@primus/parser-json/dist/index.js',
      '@primus/protocol/dist/index.js',
      `${thirdParty.name}/dist/index.js`,
    ]);
    expect(same).toBe(true);
  });

  it('loads the CommonJS build of a third-party transformer in a CommonJS application', async () => {
    const { same, files } = await start('app-third-party.cjs');
    expect(files).toEqual([
      '@primus/client/dist/index.cjs',
      '@primus/core/dist/contract.cjs',
      '@primus/core/dist/index.cjs',
      '@primus/parser-json/dist/index.cjs',
      '@primus/protocol/dist/index.cjs',
      `${thirdParty.name}/dist/index.cjs`,
    ]);
    expect(same).toBe(true);
  });
});
