import { EventEmitter } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Spark } from '@primus/core';
import { browserSuite, CHROMIUM_ARGS, nextData, nextSpark, startServer, waitFor, type TestServer } from '@primus/transformer-test-suite';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import socketio from '../src';

browserSuite({ transformer: socketio });

// What the shared browser suite does not cover: XHR polling in a real browser, the page's globals,
// ending for good, and happn-primus's own browser client against this server.

const TIMEOUT = 30000;
const executablePath = process.env.PRIMUS_CHROMIUM ?? '/usr/bin/chromium';

// happn-primus ships no types and is CommonJS only.
const HappnPrimus = require('happn-primus') as new (server: EventEmitter, options: Record<string, unknown>) => { library(): string };

/** happn-primus's browser client for socket.io (with its global `io`), for a server at `/primus`. */
const happnLibrary = new HappnPrimus(new EventEmitter(), { transformer: 'socket.io' }).library();

/** A page that runs `prelude`, loads the client from `src` and can connect with it. */
const page = (src: string, prelude = ''): string => `<!doctype html>
<html><head><meta charset="utf-8"><title>socket.io browser test</title></head>
<body>
<script>${prelude}</script>
<script src="${src}"></script>
<script>
  window.events = [];
  window.received = [];
  window.connect = function (options) {
    var primus = new Primus(location.origin, options || {});
    ['open', 'end', 'close', 'reconnect scheduled', 'error'].forEach(function (name) {
      primus.on(name, function () { window.events.push(name); });
    });
    primus.on('data', function (data) { window.received.push(data); });
    window.primus = primus;
    return true;
  };
</script>
</body></html>`;

describe('browser: socket.io specifics', () => {
  let browser: Browser;
  let context: BrowserContext | undefined;
  const servers: TestServer[] = [];

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
  }, 60000);

  afterEach(async () => {
    await context?.close();
    context = undefined;
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  afterAll(async () => {
    await browser?.close();
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

  async function open(server: TestServer, options: Record<string, unknown> = {}): Promise<Page> {
    context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(server.url + '/');
    await tab.evaluate((opts) => (window as unknown as { connect(o: unknown): boolean }).connect(opts), options);
    return tab;
  }

  const events = (tab: Page): Promise<string[]> => tab.evaluate(() => (window as unknown as { events: string[] }).events);
  const waitForEvent = (tab: Page, name: string): Promise<unknown> =>
    waitFor(async () => (await events(tab)).includes(name), TIMEOUT - 5000, `browser event "${name}"`);

  it('long-polls with XHR when told to avoid WebSockets, and carries 1 MB of multi-byte text both ways', async () => {
    const server = await start(page('/primus/primus.js'));
    const sparkP = nextSpark(server.primus);
    const tab = await open(server, { websockets: false });
    const spark = await sparkP;
    expect(spark.request?.url).toMatch(new RegExp(`^/primus/1/xhr-polling/${spark.id}\\?`));
    await waitForEvent(tab, 'open');

    const big = '€😀 \u2028'.repeat(150000);
    const atServer = new Promise<unknown>((resolve) => spark.once('data', resolve));
    await tab.evaluate((n) => (window as unknown as { primus: { write(d: unknown): void } }).primus.write('€😀 \u2028'.repeat(n)), 150000);
    expect(await atServer).toBe(big);
    spark.write(big);
    await waitFor(() => tab.evaluate(() => (window as unknown as { received: unknown[] }).received.length === 1), 15000, 'the 1 MB message');
    expect(await tab.evaluate((n) => (window as unknown as { received: unknown[] }).received[0] === '€😀 \u2028'.repeat(n), 150000)).toBe(true);
  }, TIMEOUT);

  it("creates no global io, and leaves the page's own io alone", async () => {
    const server = await start(page('/primus/primus.js', 'window.io = "the page\'s own";'));
    const first = nextData(server.primus);
    const tab = await open(server);
    await waitForEvent(tab, 'open');
    await tab.evaluate(() => (window as unknown as { primus: { write(d: unknown): void } }).primus.write('hello'));
    expect((await first)[0]).toBe('hello');
    expect(await tab.evaluate(() => (window as unknown as { io: unknown }).io)).toBe("the page's own");
  }, TIMEOUT);

  it.each([{ websockets: true }, { websockets: false }])('ends for good on spark.end() (%o)', async (options) => {
    const server = await start(page('/primus/primus.js'));
    const sparkP = nextSpark(server.primus);
    const tab = await open(server, { ...options, reconnect: { min: 50, max: 100 } });
    const spark = await sparkP;
    await waitForEvent(tab, 'open');
    spark.end('bye');
    await waitForEvent(tab, 'end');
    expect(await tab.evaluate(() => (window as unknown as { received: unknown[] }).received)).toEqual(['bye']);
    expect(await events(tab)).not.toContain('reconnect scheduled');
  }, TIMEOUT);

  it("lets happn-primus's browser client talk to this server", async () => {
    const server = await start(page('/happn/primus.js'));
    server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write(data)));
    const sparkP = nextSpark(server.primus);
    const tab = await open(server);
    const spark = await sparkP;
    expect(spark.request?.url).toMatch(new RegExp(`^/primus/1/websocket/${spark.id}\\?`));
    await waitForEvent(tab, 'open');
    const message = { text: 'hello', unicode: 'line\u2028para\u2029 😀 РУС €', list: [1, { deep: true }] };
    await tab.evaluate((m) => (window as unknown as { primus: { write(d: unknown): void } }).primus.write(m), message);
    await waitFor(() => tab.evaluate(() => (window as unknown as { received: unknown[] }).received.length === 1), 10000, 'the echo');
    expect((await tab.evaluate(() => (window as unknown as { received: unknown[] }).received))[0]).toEqual(message);
    spark.end();
    await waitForEvent(tab, 'end');
    expect(await events(tab)).not.toContain('reconnect scheduled');
  }, TIMEOUT);
});
