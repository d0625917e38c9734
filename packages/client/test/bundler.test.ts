// The npm-importable client: `import { Primus } from '@primus/client'` bundled for the browser by a
// bundler (esbuild here), with no primus.js from the server, talking to a websockets server.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import websockets from '@primus/transformer-ws';
import { CHROMIUM_ARGS, nextSpark, startServer, waitFor, type TestServer } from '@primus/transformer-test-suite';

const chromium = process.env.PRIMUS_CHROMIUM ?? '/usr/bin/chromium';
let bundle: string;
let server: TestServer;
let browser: import('playwright-core').Browser;

beforeAll(async () => {
  const result = await build({
    stdin: {
      contents: [
        "import { Primus } from '@primus/client';",
        'const primus = new Primus(location.origin);',
        'window.received = [];',
        "primus.on('data', (data) => window.received.push(data));",
        "primus.on('open', () => primus.write({ from: 'the bundle', text: 'é 😀' }));",
      ].join('\n'),
      resolveDir: __dirname,
      loader: 'js',
    },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    write: false,
    // Resolve the package as a user's bundler would: through its package.json, not its sources.
    alias: { '@primus/client': join(__dirname, '..') },
  });
  bundle = result.outputFiles[0]!.text;
  server = await startServer({ transformer: websockets }, 0, '127.0.0.1', (req, res) => {
    if (req.url === '/app.js') {
      res.setHeader('Content-Type', 'text/javascript');
      res.end(bundle);
      return;
    }
    res.setHeader('Content-Type', 'text/html');
    res.end('<!doctype html><meta charset="utf-8"><script src="/app.js"></script>');
  });
  if (!existsSync(chromium)) throw new Error(`Chromium not found at ${chromium}: install it (apt-get install chromium) or set PRIMUS_CHROMIUM`);
  const { chromium: launcher } = await import('playwright-core');
  browser = await launcher.launch({ executablePath: chromium, args: CHROMIUM_ARGS });
}, 60000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it('is importable from npm into a browser bundle and talks to the server', async () => {
  expect(bundle).not.toContain('primus.js');
  const sparkP = nextSpark(server.primus);
  const page = await browser.newPage();
  const first = new Promise<unknown>((resolve) => server.primus.once('connection', (spark) => spark.once('data', resolve)));
  await page.goto(server.url + '/');
  expect(await first).toEqual({ from: 'the bundle', text: 'é 😀' });
  (await sparkP).write({ back: 'to the page' });
  await waitFor(async () => (await page.evaluate(() => (window as unknown as { received: unknown[] }).received.length)) === 1, 10000, 'the reply');
  expect(await page.evaluate(() => (window as unknown as { received: unknown[] }).received)).toEqual([{ back: 'to the page' }]);
}, 30000);
