import { afterEach, describe, expect, it } from '@jest/globals';
import type { Spark, Transformer, PrimusOptions } from '@primus/core';
import { testPage, useBrowser, type TestTab } from './browser-harness';
import { nextData, startServer, waitFor, type TestServer } from './harness';

export { CHROMIUM_ARGS } from './browser-harness';

/** Options of the browser suite. */
export interface BrowserSuiteOptions {
  /** The transformer under test. */
  transformer: Transformer;
  /** Chromium to drive. @default process.env.PRIMUS_CHROMIUM or /usr/bin/chromium */
  executablePath?: string;
  /** Per-test timeout in ms. @default 30000 */
  timeout?: number;
}

/**
 * Browser tests every transformer runs: a page served by the test's own server loads
 * `/primus/primus.js`, connects to the page's origin, echoes, survives a server restart, notices
 * the network going away and coming back, runs a plugin's client half and honours `global`.
 */
export function browserSuite(options: BrowserSuiteOptions): void {
  const { transformer } = options;
  const timeout = options.timeout ?? 30000;
  const chromium = useBrowser({ executablePath: options.executablePath, eventTimeout: timeout - 2000 });
  const servers: TestServer[] = [];

  async function start(extra: PrimusOptions = {}, port?: number): Promise<TestServer> {
    const html = testPage({ global: typeof extra.global === 'string' ? extra.global : 'Primus' });
    const server = await startServer({ transformer, ...extra }, port, '127.0.0.1', (_req, res) => {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(html);
    });
    servers.push(server);
    return server;
  }

  const open = (server: TestServer, clientOptions: Record<string, unknown> = {}): Promise<TestTab> => chromium.open(server.url + '/', { clientOptions });

  afterEach(async () => {
    await chromium.closeContext();
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  describe(`browser: ${transformer.name}`, () => {
    it(
      'loads primus.js, connects to the page origin and echoes objects and unicode',
      async () => {
        const server = await start();
        server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write(data)));
        const page = await open(server);
        await page.waitForEvent('open');
        const message = { text: 'hello', unicode: 'line\u2028para\u2029 😀 РУС €', list: [1, { deep: true }] };
        await page.write(message);
        await waitFor(async () => (await page.received()).length === 1, 10000, 'the echo');
        expect((await page.received())[0]).toEqual(message);
      },
      timeout,
    );

    it(
      'reconnects after the server restarts, sending writes made during the outage',
      async () => {
        const server = await start();
        const page = await open(server, { reconnect: { min: 100, max: 500, retries: 50 } });
        await page.waitForEvent('open');
        await server.kill();
        await page.waitForEvent('reconnect scheduled');
        await page.write('during the outage');
        const restarted = await start({}, server.port);
        const [data] = await nextData(restarted.primus, timeout - 5000);
        expect(data).toBe('during the outage');
        await page.waitForEvent('reconnected');
      },
      timeout,
    );

    it(
      'goes offline and back online with the browser network',
      async () => {
        const server = await start();
        const page = await open(server, { reconnect: { min: 100, max: 500 } });
        await page.waitForEvent('open');
        await chromium.context!.setOffline(true);
        await page.waitForEvent('offline');
        await page.waitForEvent('end');
        await chromium.context!.setOffline(false);
        await page.waitForEvent('online');
        await page.waitForEvent('open', 2);
      },
      timeout,
    );

    it(
      "runs a plugin's client half and honours the global option",
      async () => {
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
        const page = await open(server);
        expect(await page.tab.evaluate(() => typeof (window as unknown as { Realtime?: unknown }).Realtime)).toBe('function');
        expect(await page.tab.evaluate(() => typeof (window as unknown as { Primus?: unknown }).Primus)).toBe('undefined');
        const [data] = await first;
        expect(data).toBe('greetings from the plugin');
      },
      timeout,
    );
  });
}
