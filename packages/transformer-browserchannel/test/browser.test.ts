import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { PrimusOptions, Spark } from '@primus/core';
import { browserSuite, CHROMIUM_ARGS, nextSpark, once, startServer, waitFor, type TestServer } from '@primus/transformer-test-suite';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import browserchannel from '../src';

browserSuite({ transformer: browserchannel });

// What only a browser shows: the bundled closure client's requests, from a page.

const TIMEOUT = 30000;
const executablePath = process.env.PRIMUS_CHROMIUM ?? '/usr/bin/chromium';

/** A page that loads primus.js from `primusOrigin` and can connect to it. */
const html = (primusOrigin: string): string => `<!doctype html>
<html><head><meta charset="utf-8"><title>browserchannel</title></head><body>
<script src="${primusOrigin}/primus/primus.js"></script>
<script>
  window.events = [];
  window.received = [];
  window.connect = function (url, options) {
    var primus = new Primus(url, options || {});
    ['open', 'end', 'error', 'reconnected'].forEach(function (name) { primus.on(name, function () { window.events.push(name); }); });
    primus.on('data', function (data) { window.received.push(data); });
    window.primus = primus;
  };
</script>
</body></html>`;

type Window = { events: string[]; received: unknown[]; connect(url: string, options?: unknown): void; primus: { write(data: unknown): void; end(): void } };

let browser: Browser;
let context: BrowserContext | undefined;
const servers: TestServer[] = [];

/** A Primus server whose other paths serve the test page, loading primus.js from `primusOrigin` (itself by default). */
async function start(options: PrimusOptions = {}, primusOrigin?: () => string, host = '127.0.0.1'): Promise<TestServer & { hits: string[] }> {
  const hits: string[] = [];
  let self = '';
  const server = await startServer({ transformer: browserchannel, ...options }, 0, host, (req: http.IncomingMessage, res: http.ServerResponse) => {
    hits.push(req.url ?? '');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(html(primusOrigin?.() ?? self));
  });
  self = server.url;
  servers.push(server);
  return Object.assign(server, { hits });
}

async function open(pageUrl: string, primusUrl: string, options: Record<string, unknown> = {}): Promise<{ tab: Page; requests: string[] }> {
  context = await browser.newContext();
  const tab = await context.newPage();
  const requests: string[] = [];
  tab.on('request', (req) => requests.push(req.url()));
  await tab.goto(pageUrl);
  await tab.evaluate(([url, opts]) => (window as unknown as Window).connect(url as string, opts), [primusUrl, options] as const);
  return { tab, requests };
}

const events = (tab: Page): Promise<string[]> => tab.evaluate(() => (window as unknown as Window).events);
const received = (tab: Page): Promise<unknown[]> => tab.evaluate(() => (window as unknown as Window).received);
const waitForEvent = (tab: Page, name: string): Promise<unknown> => waitFor(async () => (await events(tab)).includes(name), 10000, `browser event "${name}"`);

describe('browser: browserchannel', () => {
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

  it('carries the query, ping and pong to the spark, and authorizes every request, terminate included', async () => {
    const seen = new Set<string>();
    const server = await start({
      authorization(req, done) {
        const url = new URL(req.url ?? '/', 'http://localhost');
        seen.add(`${req.method} ${url.pathname} ${url.searchParams.get('TYPE') ?? url.searchParams.get('MODE') ?? ''}`.trim());
        done(url.searchParams.get('token') === 'secret' ? undefined : Object.assign(new Error('nope'), { statusCode: 403 }));
      },
    });
    const sparkP = nextSpark(server.primus);
    const { tab } = await open(server.url, `${server.url}/?token=secret&room=lobby`, { ping: 4000, pong: 2000 });
    const spark = await sparkP;
    expect(spark.query).toMatchObject({ token: 'secret', room: 'lobby', ping: 4000, pong: 2000 });
    await waitForEvent(tab, 'open');
    await waitFor(() => seen.has('GET /primus/bind xmlhttp'), 5000, 'the back channel');

    const ended = once(spark, 'end', 5000);
    await tab.evaluate(() => (window as unknown as Window).primus.end());
    await ended;
    expect(seen).toEqual(new Set(['GET /primus/test init', 'GET /primus/test xmlhttp', 'POST /primus/bind', 'GET /primus/bind xmlhttp', 'GET /primus/bind terminate']));
  }, TIMEOUT);

  it('delivers a 1 MB message intact in both directions', async () => {
    const server = await start();
    const sparkP = nextSpark(server.primus);
    const { tab } = await open(server.url, server.url);
    const spark = await sparkP;
    await waitForEvent(tab, 'open');
    const big = 'x'.repeat(1024 * 1024 - 32) + '€😀';
    const atServer = once(spark, 'data', 20000);
    await tab.evaluate((size) => (window as unknown as Window).primus.write('x'.repeat(size) + '€😀'), 1024 * 1024 - 32);
    expect((await atServer)[0]).toBe(big);
    spark.write(big);
    await waitFor(async () => (await received(tab)).length === 1, 20000, 'the big message');
    expect(await tab.evaluate(() => (window as unknown as Window).received[0] === 'x'.repeat(1024 * 1024 - 32) + '€😀')).toBe(true);
  }, TIMEOUT);

  it('broadcasts to every page, reconnects on spark.end({ reconnect: true }) and ends for good on spark.end()', async () => {
    const server = await start();
    const first = nextSpark(server.primus);
    const { tab } = await open(server.url, server.url, { reconnect: { min: 50, max: 100 } });
    const spark = await first;
    const other = await context!.newPage();
    await other.goto(server.url);
    await other.evaluate((url) => (window as unknown as Window).connect(url), server.url);
    await waitFor(() => server.primus.connected === 2, 10000, 'two pages');
    server.primus.write({ news: 'flash' });
    for (const page of [tab, other]) await waitFor(async () => (await received(page)).length === 1, 10000, 'the broadcast');
    expect([await received(tab), await received(other)]).toEqual([[{ news: 'flash' }], [{ news: 'flash' }]]);

    const second = nextSpark(server.primus);
    spark.end(undefined, { reconnect: true });
    await waitForEvent(tab, 'reconnected');
    (await second).end();
    await waitForEvent(tab, 'end');
    expect(await events(tab)).not.toContain('error');
    expect(server.primus.connected).toBe(1);
  }, TIMEOUT);

  it('connects to a server of another origin through Primus CORS', async () => {
    const target = await start();
    target.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write({ echo: data })));
    const page = await start({}, () => target.url.replace('127.0.0.1', 'localhost'));
    const sparkP = nextSpark(target.primus);
    const primusUrl = target.url.replace('127.0.0.1', 'localhost');
    const { tab } = await open(page.url, primusUrl);
    const spark = await sparkP;
    expect(spark.headers.origin).toBe(page.url);
    await waitForEvent(tab, 'open');
    await tab.evaluate(() => (window as unknown as Window).primus.write('across'));
    await waitFor(async () => (await tab.evaluate(() => (window as unknown as Window).received)).length === 1, 10000, 'the echo');
    expect(await tab.evaluate(() => (window as unknown as Window).received)).toEqual([{ echo: 'across' }]);
  }, TIMEOUT);

  it('connects from a page whose origin is an IPv6 literal', async () => {
    const server = await start({}, undefined, '::1');
    const sparkP = nextSpark(server.primus);
    const { tab } = await open(server.url, server.url);
    await waitForEvent(tab, 'open');
    expect((await sparkP).address.ip).toBe('::1');
  }, TIMEOUT);

  it('probes the network only where it is told to, never at www.google.com', async () => {
    const server = await start({
      authorization(_req, done) {
        done(Object.assign(new Error('closed for today'), { statusCode: 403 }));
      },
    });
    // The probe BrowserChannel runs after a failed request goes where testImageUri says...
    const first = await open(server.url, server.url, { transport: { testImageUri: `${server.url}/probe.gif` } });
    await waitForEvent(first.tab, 'end');
    await waitFor(() => server.hits.some((hit) => hit.startsWith('/probe.gif')), 10000, 'the probe');
    await context!.close();

    // ...and by default nowhere: the data: image needs no network.
    const second = await open(server.url, server.url);
    await waitForEvent(second.tab, 'end');
    const elsewhere = second.requests.filter((url) => !url.startsWith(server.url) && !url.startsWith('data:'));
    expect(elsewhere).toEqual([]);
  }, TIMEOUT);
});
