import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Spark, Transformer, PrimusOptions } from '@primus/core';
import { nextData, startServer, waitFor, type TestServer } from './harness';

/** Options of the browser suite. */
export interface BrowserSuiteOptions {
  /** The transformer under test. */
  transformer: Transformer;
  /** Chromium to drive. @default process.env.PRIMUS_CHROMIUM or /usr/bin/chromium */
  executablePath?: string;
  /** Per-test timeout in ms. @default 30000 */
  timeout?: number;
}

type Browser = import('playwright-core').Browser;
type Page = import('playwright-core').Page;
type BrowserContext = import('playwright-core').BrowserContext;

/** The flags Chromium needs on a locked-down machine: no sandbox as root, no GPU, no phoning home. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const page = (global: string): string => `<!doctype html>
<html><head><meta charset="utf-8"><title>primus browser test</title></head>
<body>
<script src="/primus/primus.js"></script>
<script>
  window.events = [];
  window.received = [];
  window.connect = function (options) {
    var Client = window[${JSON.stringify(global)}];
    var primus = new Client(location.origin, options || {});
    ['open', 'end', 'close', 'offline', 'online', 'reconnect scheduled', 'reconnected', 'error'].forEach(function (name) {
      primus.on(name, function () { window.events.push(name); });
    });
    primus.on('data', function (data) { window.received.push(data); });
    window.primus = primus;
    return true;
  };
</script>
</body></html>`;

/**
 * Browser tests every transformer runs: a page served by the test's own server loads
 * `/primus/primus.js`, connects to the page's origin, echoes, survives a server restart, notices
 * the network going away and coming back, runs a plugin's client half and honours `global`.
 */
export function browserSuite(options: BrowserSuiteOptions): void {
  const { transformer } = options;
  const timeout = options.timeout ?? 30000;
  const executablePath = options.executablePath ?? process.env.PRIMUS_CHROMIUM ?? '/usr/bin/chromium';
  const servers: TestServer[] = [];
  let browser: Browser;
  let context: BrowserContext | undefined;

  async function start(extra: PrimusOptions = {}, port?: number): Promise<TestServer> {
    const html = page(typeof extra.global === 'string' ? extra.global : 'Primus');
    const server = await startServer({ transformer, ...extra }, port, '127.0.0.1', (_req, res) => {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(html);
    });
    servers.push(server);
    return server;
  }

  async function open(server: TestServer, clientOptions: Record<string, unknown> = {}): Promise<Page> {
    context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(server.url + '/');
    await tab.evaluate((opts) => (window as unknown as { connect(o: unknown): boolean }).connect(opts), clientOptions);
    return tab;
  }

  const events = (tab: Page): Promise<string[]> => tab.evaluate(() => (window as unknown as { events: string[] }).events);
  const received = (tab: Page): Promise<unknown[]> => tab.evaluate(() => (window as unknown as { received: unknown[] }).received);
  const waitForEvent = (tab: Page, name: string, count = 1): Promise<unknown> =>
    waitFor(async () => (await events(tab)).filter((e) => e === name).length >= count, timeout - 2000, `browser event "${name}" x${count}`);

  beforeAll(async () => {
    if (!existsSync(executablePath)) {
      throw new Error(`Chromium not found at ${executablePath}: install it (apt-get install chromium) or set PRIMUS_CHROMIUM`);
    }
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

  describe(`browser: ${transformer.name}`, () => {
    it('loads primus.js, connects to the page origin and echoes objects and unicode', async () => {
      const server = await start();
      server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write(data)));
      const tab = await open(server);
      await waitForEvent(tab, 'open');
      const message = { text: 'hello', unicode: 'line\u2028para\u2029 😀 РУС €', list: [1, { deep: true }] };
      await tab.evaluate((m) => (window as unknown as { primus: { write(d: unknown): void } }).primus.write(m), message);
      await waitFor(async () => (await received(tab)).length === 1, 10000, 'the echo');
      expect((await received(tab))[0]).toEqual(message);
    }, timeout);

    it('reconnects after the server restarts, sending writes made during the outage', async () => {
      const server = await start();
      const tab = await open(server, { reconnect: { min: 100, max: 500, retries: 50 } });
      await waitForEvent(tab, 'open');
      await server.kill();
      await waitForEvent(tab, 'reconnect scheduled');
      await tab.evaluate(() => (window as unknown as { primus: { write(d: unknown): void } }).primus.write('during the outage'));
      const restarted = await start({}, server.port);
      const [data] = await nextData(restarted.primus, timeout - 5000);
      expect(data).toBe('during the outage');
      await waitForEvent(tab, 'reconnected');
    }, timeout);

    it('goes offline and back online with the browser network', async () => {
      const server = await start();
      const tab = await open(server, { reconnect: { min: 100, max: 500 } });
      await waitForEvent(tab, 'open');
      await context!.setOffline(true);
      await waitForEvent(tab, 'offline');
      await waitForEvent(tab, 'end');
      await context!.setOffline(false);
      await waitForEvent(tab, 'online');
      await waitForEvent(tab, 'open', 2);
    }, timeout);

    it("runs a plugin's client half and honours the global option", async () => {
      const server = await start({
        global: 'Realtime',
        plugin: {
          greeter: {
            client(primus: { on(event: string, fn: () => void): void; write(data: unknown): void }) {
              primus.on('open', () => primus.write('greetings from the plugin'));
            },
          },
        },
      });
      const first = nextData(server.primus);
      const tab = await open(server);
      expect(await tab.evaluate(() => typeof (window as unknown as { Realtime?: unknown }).Realtime)).toBe('function');
      expect(await tab.evaluate(() => typeof (window as unknown as { Primus?: unknown }).Primus)).toBe('undefined');
      const [data] = await first;
      expect(data).toBe('greetings from the plugin');
    }, timeout);
  });
}
