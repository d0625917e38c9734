import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll } from '@jest/globals';
import { waitFor } from './harness';

type Browser = import('playwright-core').Browser;
type BrowserContext = import('playwright-core').BrowserContext;
type Page = import('playwright-core').Page;

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

/** The client events a test page records, in order, in `window.events`. */
export const PAGE_EVENTS = ['open', 'end', 'close', 'offline', 'online', 'reconnect scheduled', 'reconnect', 'reconnected', 'error'];

/** What the test page is made of. */
export interface TestPageOptions {
  /** Where the client library comes from. @default '/primus/primus.js' */
  src?: string;
  /** The global the library defines. @default 'Primus' */
  global?: string;
  /** A script run before the library loads. */
  prelude?: string;
  /** @default 'primus browser test' */
  title?: string;
}

/**
 * The HTML of a test page: it loads the client library and defines `window.connect(url?,
 * options?)`, which creates `window.primus` (to `location.origin` by default) and records its
 * events in `window.events` and its messages in `window.received`.
 */
export function testPage(options: TestPageOptions = {}): string {
  const src = options.src ?? '/primus/primus.js';
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${options.title ?? 'primus browser test'}</title></head>
<body>
${options.prelude ? `<script>${options.prelude}</script>\n` : ''}<script src="${src}"></script>
<script>
  window.events = [];
  window.received = [];
  window.connect = function (url, options) {
    var Client = window[${JSON.stringify(options.global ?? 'Primus')}];
    var primus = new Client(url || location.origin, options || {});
    ${JSON.stringify(PAGE_EVENTS)}.forEach(function (name) {
      primus.on(name, function () { window.events.push(name); });
    });
    primus.on('data', function (data) { window.received.push(data); });
    window.primus = primus;
    return true;
  };
</script>
</body></html>`;
}

interface PageWindow {
  events: string[];
  received: unknown[];
  connect(url?: string, options?: unknown): boolean;
  primus: { write(data: unknown): void; end(): void };
}

/** A page of the browser harness and what it saw. */
export interface TestTab {
  readonly tab: Page;
  /** Every URL the page requested, in order. */
  readonly requests: string[];
  /** Create `window.primus`: `url` defaults to the page's origin. */
  connect(url?: string, options?: Record<string, unknown>): Promise<void>;
  /** The client's events so far (see `PAGE_EVENTS`). */
  events(): Promise<string[]>;
  /** The messages the client received so far. */
  received(): Promise<unknown[]>;
  /** Wait until `name` was emitted `count` times. */
  waitForEvent(name: string, count?: number, ms?: number): Promise<void>;
  /** `primus.write(data)` in the page. */
  write(data: unknown): Promise<void>;
  /** `primus.end()` in the page. */
  end(): Promise<void>;
}

/** The browser of one test file. */
export interface BrowserHarness {
  /** The running Chromium (set once `beforeAll` ran). */
  readonly browser: Browser;
  /** The browser context of the current test, created by `open()` and closed after the test. */
  readonly context: BrowserContext | undefined;
  /**
   * Open `url` in a page of the test's context (a fresh one for the first page of a test) and,
   * unless `connect` is false, connect the page's client with `clientOptions` (to `connectUrl`,
   * or the page's origin).
   */
  open(url: string, options?: { connect?: boolean; connectUrl?: string; clientOptions?: Record<string, unknown> }): Promise<TestTab>;
  /**
   * Close the test's context (its pages) now rather than after the test's own `afterEach`
   * hooks: call it first in a hook that closes servers the pages may still be polling.
   */
  closeContext(): Promise<void>;
}

/** Options of `useBrowser()`. */
export interface UseBrowserOptions {
  /** Chromium to drive. @default process.env.PRIMUS_CHROMIUM or /usr/bin/chromium */
  executablePath?: string;
  /** How long `waitForEvent` waits by default (ms). @default 10000 */
  eventTimeout?: number;
}

/**
 * Headless Chromium for one test file, driven by `playwright-core`: launched before the file's
 * tests (with `CHROMIUM_ARGS`), a fresh context per test closed after it, and pages that load a
 * test page (`testPage()`) and connect its client.
 *
 * ```ts
 * const chromium = useBrowser();
 * it('echoes', async () => {
 *   const server = await start();          // a server whose other paths answer with testPage()
 *   const page = await chromium.open(server.url + '/');
 *   await page.waitForEvent('open');
 * });
 * ```
 */
export function useBrowser(options: UseBrowserOptions = {}): BrowserHarness {
  const executablePath = options.executablePath ?? process.env.PRIMUS_CHROMIUM ?? '/usr/bin/chromium';
  const eventTimeout = options.eventTimeout ?? 10_000;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    if (!existsSync(executablePath)) {
      throw new Error(`Chromium not found at ${executablePath}: install it (apt-get install chromium) or set PRIMUS_CHROMIUM`);
    }
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
  }, 60_000);

  const closeContext = async (): Promise<void> => {
    const current = context;
    context = undefined;
    await current?.close();
  };

  afterEach(closeContext);

  afterAll(async () => {
    await browser?.close();
  });

  return {
    get browser() {
      if (!browser) throw new Error('the browser is not running: useBrowser() must be called at the top of a test file or describe');
      return browser;
    },
    get context() {
      return context;
    },
    closeContext,
    async open(url, openOptions = {}) {
      context ??= await this.browser.newContext();
      const tab = await context.newPage();
      const requests: string[] = [];
      tab.on('request', (req) => requests.push(req.url()));
      await tab.goto(url);
      const events = (): Promise<string[]> => tab.evaluate(() => (window as unknown as PageWindow).events);
      const page: TestTab = {
        tab,
        requests,
        async connect(target, clientOptions = {}) {
          await tab.evaluate(([u, o]) => void (window as unknown as PageWindow).connect(u as string | undefined, o), [target, clientOptions] as const);
        },
        events,
        received: () => tab.evaluate(() => (window as unknown as PageWindow).received),
        async waitForEvent(name, count = 1, ms = eventTimeout) {
          await waitFor(async () => (await events()).filter((e) => e === name).length >= count, ms, `browser event "${name}"${count > 1 ? ` x${count}` : ''}`);
        },
        async write(data) {
          await tab.evaluate((d) => (window as unknown as PageWindow).primus.write(d), data);
        },
        async end() {
          await tab.evaluate(() => (window as unknown as PageWindow).primus.end());
        },
      };
      if (openOptions.connect !== false) await page.connect(openOptions.connectUrl, openOptions.clientOptions);
      return page;
    },
  };
}
