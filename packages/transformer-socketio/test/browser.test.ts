import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Spark } from '@primus/core';
import { browserSuite, nextData, nextSpark, startServer, testPage, useBrowser, waitFor, type TestServer, type TestTab } from '@primus/transformer-test-suite';
import socketio from '../src';

browserSuite({ transformer: socketio });

// What the shared browser suite does not cover: XHR polling in a real browser, the page's globals,
// ending for good, and happn-primus's own browser client against this server.

const TIMEOUT = 30000;

// happn-primus ships no types and is CommonJS only.
const HappnPrimus = require('happn-primus') as new (server: EventEmitter, options: Record<string, unknown>) => { library(): string };

/** happn-primus's browser client for socket.io (with its global `io`), for a server at `/primus`. */
const happnLibrary = new HappnPrimus(new EventEmitter(), { transformer: 'socket.io' }).library();

describe('browser: socket.io specifics', () => {
  const chromium = useBrowser({ eventTimeout: TIMEOUT - 5000 });
  const servers: TestServer[] = [];

  afterEach(async () => {
    // Pages first: a server does not finish closing while a page still polls it.
    await chromium.closeContext();
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  /** Start a server whose `/` is `html` and `/happn/primus.js` happn-primus's client. */
  async function start(html: string, options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
    const server = await startServer({ transformer: socketio, ...options }, 0, '127.0.0.1', (req, res) => {
      res.setHeader('Content-Type', req.url === '/happn/primus.js' ? 'text/javascript; charset=utf-8' : 'text/html; charset=utf-8');
      res.end(req.url === '/happn/primus.js' ? happnLibrary : html);
    });
    servers.push(server);
    return server;
  }

  const open = (server: TestServer, clientOptions: Record<string, unknown> = {}): Promise<TestTab> => chromium.open(server.url + '/', { clientOptions });

  it(
    'long-polls with XHR when told to avoid WebSockets, and carries 1 MB of multi-byte text both ways',
    async () => {
      const server = await start(testPage());
      const sparkP = nextSpark(server.primus);
      const page = await open(server, { websockets: false });
      const spark = await sparkP;
      expect(spark.request?.url).toMatch(new RegExp(`^/primus/1/xhr-polling/${spark.id}\\?`));
      await page.waitForEvent('open');

      const big = '€😀 \u2028'.repeat(150000);
      const atServer = new Promise<unknown>((resolve) => spark.once('data', resolve));
      await page.tab.evaluate((n) => (window as unknown as { primus: { write(d: unknown): void } }).primus.write('€😀 \u2028'.repeat(n)), 150000);
      expect(await atServer).toBe(big);
      spark.write(big);
      await waitFor(async () => (await page.received()).length === 1, 15000, 'the 1 MB message');
      expect(await page.tab.evaluate((n) => (window as unknown as { received: unknown[] }).received[0] === '€😀 \u2028'.repeat(n), 150000)).toBe(true);
    },
    TIMEOUT,
  );

  it(
    "creates no global io, and leaves the page's own io alone",
    async () => {
      const server = await start(testPage({ prelude: 'window.io = "the page\'s own";' }));
      const first = nextData(server.primus);
      const page = await open(server);
      await page.waitForEvent('open');
      await page.write('hello');
      expect((await first)[0]).toBe('hello');
      expect(await page.tab.evaluate(() => (window as unknown as { io: unknown }).io)).toBe("the page's own");
    },
    TIMEOUT,
  );

  it.each([{ websockets: true }, { websockets: false }])(
    'ends for good on spark.end() (%o)',
    async (options) => {
      const server = await start(testPage());
      const sparkP = nextSpark(server.primus);
      const page = await open(server, { ...options, reconnect: { min: 50, max: 100 } });
      const spark = await sparkP;
      await page.waitForEvent('open');
      spark.end('bye');
      await page.waitForEvent('end');
      expect(await page.received()).toEqual(['bye']);
      expect(await page.events()).not.toContain('reconnect scheduled');
    },
    TIMEOUT,
  );

  it(
    "lets happn-primus's browser client talk to this server",
    async () => {
      const server = await start(testPage({ src: '/happn/primus.js' }));
      server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write(data)));
      const sparkP = nextSpark(server.primus);
      const page = await open(server);
      const spark = await sparkP;
      expect(spark.request?.url).toMatch(new RegExp(`^/primus/1/websocket/${spark.id}\\?`));
      await page.waitForEvent('open');
      const message = { text: 'hello', unicode: 'line\u2028para\u2029 😀 РУС €', list: [1, { deep: true }] };
      await page.write(message);
      await waitFor(async () => (await page.received()).length === 1, 10000, 'the echo');
      expect((await page.received())[0]).toEqual(message);
      spark.end();
      await page.waitForEvent('end');
      expect(await page.events()).not.toContain('reconnect scheduled');
    },
    TIMEOUT,
  );
});
