import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { compile, type ClientConfig } from '@primus/client';
import { Primus, type Parser, type Spark as OurSpark, type Transformer } from '@primus/core';
import { CHROMIUM_ARGS } from './browser';
import * as happnInterop from './happn';
import { once, request, startServer, waitFor, type TestServer } from './harness';

/** One value every pairing must carry. */
export interface ParserSample {
  /** Shown in failure messages. */
  name: string;
  /** The value as written in Node. */
  value: unknown;
  /** A JavaScript expression that builds the same value in a browser; needed unless `browser: false`. */
  browser?: string;
  /** What the receiving side decodes, when the format does not give `value` back (a Date sent as text...). @default value */
  expected?: unknown;
}

/** Options of the parser suite. */
export interface ParserSuiteOptions {
  /** The parser under test. */
  parser: Parser;
  /** A transformer whose frames the parser fits: a parser that encodes to bytes needs one that carries binary frames. */
  transformer: Transformer;
  /** Values carried both ways in every pairing; the heartbeat, ids and ending are tested besides. */
  samples: ParserSample[];
  /** A frame the parser must refuse to decode. */
  garbage: string | Uint8Array;
  /** A value the parser must refuse to encode. */
  unencodable: unknown;
  /**
   * Interop with happn-primus 6.0.1, both ways: `require('happn-primus')`, the `parser` option to
   * give it (its parser's name, or the parser object for one it ships but does not list by name),
   * and the name of its transformer matching `transformer`. @default no interop tests
   */
  happn?: { module: happnInterop.HappnPrimusModule; parser: unknown; transformer?: string };
  /**
   * Transformers that carry text only, over which this parser (one that sends binary frames) must
   * be refused at construction, naming the option. @default []
   */
  refusedBy?: Transformer[];
  /** Run the samples and the heartbeat through `primus.js` in Chromium. @default true */
  browser?: boolean;
  /** Chromium to drive. @default process.env.PRIMUS_CHROMIUM or /usr/bin/chromium */
  executablePath?: string;
  /** Per-test timeout in ms. @default 20000 */
  timeout?: number;
}

/**
 * A value as plain JSON that tells Dates, bytes, NaN, -0 and undefined apart, so decoded values
 * compare the same way in Node, in happn-primus's sandbox and in a browser. Kept as source: the
 * browser page evaluates the same text.
 */
const DESCRIBE_SOURCE = `function describeValue(v) {
  var tag = Object.prototype.toString.call(v);
  if (v === undefined) return { $undefined: true };
  if (typeof v === 'number') {
    if (v !== v) return { $number: 'NaN' };
    if (v === 0 && 1 / v < 0) return { $number: '-0' };
    if (!isFinite(v)) return { $number: String(v) };
    return v;
  }
  if (v === null || typeof v !== 'object') return v;
  if (tag === '[object Date]') return { $date: v.getTime() };
  if (ArrayBuffer.isView(v)) return { $bytes: Array.prototype.slice.call(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
  if (tag === '[object ArrayBuffer]') return { $bytes: Array.prototype.slice.call(new Uint8Array(v)) };
  if (Array.isArray(v)) return v.map(describeValue);
  var out = {};
  Object.keys(v).forEach(function (k) { out[k] = describeValue(v[k]); });
  return out;
}`;

/** `DESCRIBE_SOURCE` as a Node function. */
export const describeValue = new Function(`return ${DESCRIBE_SOURCE}`)() as (value: unknown) => unknown;

const expected = (sample: ParserSample): unknown => describeValue('expected' in sample ? sample.expected : sample.value);

const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>primus parser test</title></head>
<body>
<script src="/primus/primus.js"></script>
<script>
  window.describeValue = ${DESCRIBE_SOURCE};
  window.received = [];
  window.pongs = 0;
  window.errors = [];
  window.connect = function (options) {
    var primus = new Primus(location.origin, options || {});
    primus.on('data', function (data) { window.received.push(describeValue(data)); });
    primus.on('incoming::pong', function () { window.pongs++; });
    primus.on('error', function (err) { window.errors.push(String(err && err.message)); });
    window.primus = primus;
    return new Promise(function (resolve) { primus.on('open', function () { resolve(true); }); });
  };
</script>
</body></html>`;

/**
 * The suite every parser runs: found by name and reported by `/primus/spec`; every sample carried
 * both ways between our server and our Node client, happn-primus 6.0.1 in both directions, and a
 * browser running `primus.js`; the heartbeat, spark ids and ending, whose control messages go
 * through the parser too; bad frames and values that cannot be encoded reported as parser errors
 * while the connection stays open.
 */
export function parserSuite(options: ParserSuiteOptions): void {
  const { parser, transformer, samples, timeout = 20000 } = options;
  const defer = happnInterop.useCleanups();
  const OurClient = compile({ transport: transformer.client, parser: parser as ClientConfig['parser'], pathname: '/primus' }) as unknown as happnInterop.ClientClass;

  async function ours(handler?: Parameters<typeof startServer>[3]): Promise<TestServer> {
    const server = await startServer({ transformer, parser }, 0, '127.0.0.1', handler);
    defer(() => server.close());
    return server;
  }

  /** Echo every message; resolve with what arrived once `count` messages did. */
  function echo(target: happnInterop.Server, count: number): Promise<unknown[]> {
    const received: unknown[] = [];
    return new Promise((resolve) => {
      target.primus.on('connection', (spark: happnInterop.Spark) =>
        spark.on('data', (data: unknown) => {
          received.push(describeValue(data));
          spark.write(data);
          if (received.length === count) resolve(received);
        }),
      );
    });
  }

  /** Connect, write every sample and check what the server and then the client decoded. */
  async function expectSamplesBothWays(target: happnInterop.Server, connect: () => happnInterop.Client): Promise<void> {
    const atServer = echo(target, samples.length);
    const client = connect();
    const echoed: unknown[] = [];
    client.on('data', (data: unknown) => echoed.push(describeValue(data)));
    for (const sample of samples) client.write(sample.value);
    expect(await atServer).toEqual(samples.map(expected));
    await waitFor(() => echoed.length === samples.length, 5000, 'every echo');
    expect(echoed).toEqual(samples.map(expected));
  }

  describe(`parser conformance: ${parser.name}`, () => {
    it(
      'is found by its name, and /primus/spec reports it',
      async () => {
        const server = await startServer({ transformer, parser: parser.name });
        defer(() => server.close());
        expect(server.primus.parser.name).toBe(parser.name);
        const sample = samples[0]!.value;
        expect(server.primus.parser.encode(sample)).toEqual(parser.encode(sample));
        const spec = await request(`${server.url}/primus/spec`);
        expect(JSON.parse(spec.body)).toMatchObject({ parser: parser.name });
      },
      timeout,
    );

    it(
      'carries every sample both ways between our server and our Node client',
      async () => {
        const server = await ours();
        const target = { primus: server.primus as unknown as happnInterop.Emitter, url: server.url, close: () => server.close() };
        await expectSamplesBothWays(target, () => server.client() as unknown as happnInterop.Client);
      },
      timeout,
    );

    it(
      'keeps the heartbeat going: pings and pongs go through the parser',
      async () => {
        const server = await ours();
        const client = server.client({ ping: 50, pong: 2000 });
        const closed: unknown[] = [];
        client.on('close', () => closed.push('close'));
        let pongs = 0;
        client.on('incoming::pong', () => pongs++);
        await waitFor(() => pongs >= 3, 5000, 'three pongs');
        expect(closed).toEqual([]);
      },
      timeout,
    );

    it(
      'refuses a malformed frame with PRIMUS_ERR_PARSER_DECODE and keeps the connection',
      async () => {
        const server = await ours();
        // A client whose own parser passes frames through untouched, to put exact bytes on the wire.
        const identity = { encode: (data: unknown) => data as string, decode: (raw: unknown) => raw };
        const Raw = compile({ transport: transformer.client, parser: identity, pathname: '/primus' });
        const sparkP = once<[OurSpark]>(server.primus, 'connection');
        const raw = new Raw(server.url, { ping: false, strategy: false });
        defer(() => raw.destroy());
        await once(raw, 'open');
        const [spark] = await sparkP;
        const errored = once<[Error & { code?: string; cause?: unknown }]>(spark, 'error');
        raw.write(options.garbage);
        const [err] = await errored;
        expect(err.code).toBe('PRIMUS_ERR_PARSER_DECODE');
        expect(err.cause).toBeInstanceOf(Error);
        const data = once<[unknown]>(spark, 'data');
        raw.write(parser.encode('still here'));
        expect((await data)[0]).toBe('still here');
      },
      timeout,
    );

    it(
      'reports a value it cannot encode with PRIMUS_ERR_PARSER_ENCODE, on both sides, and keeps the connection',
      async () => {
        const server = await ours();
        const sparkP = once<[OurSpark]>(server.primus, 'connection');
        // The client's encode error is the point of the test: it checks it below.
        const client = server.client({}, { errors: 'expected' });
        await once(client, 'open');
        const [spark] = await sparkP;

        const sparkError = once<[Error & { code?: string }]>(spark, 'error');
        spark.write(options.unencodable);
        expect((await sparkError)[0].code).toBe('PRIMUS_ERR_PARSER_ENCODE');
        const clientError = once<[Error & { code?: string }]>(client, 'error');
        client.write(options.unencodable);
        expect((await clientError)[0].code).toBe('PRIMUS_ERR_PARSER_ENCODE');

        const atClient = once<[unknown]>(client, 'data');
        const atServer = once<[unknown]>(spark, 'data');
        spark.write('after');
        client.write('after');
        expect((await atClient)[0]).toBe('after');
        expect((await atServer)[0]).toBe('after');
      },
      timeout,
    );

    for (const textOnly of options.refusedBy ?? []) {
      it(
        `is refused over ${textOnly.name}, which carries text only: at construction, by createSocket() and by parsers()`,
        async () => {
          const refusal = expect.objectContaining({
            code: 'PRIMUS_ERR_INVALID_OPTION',
            message: expect.stringMatching(new RegExp(`"parser".*"${textOnly.name}" transformer, which carries text only.*got "${parser.name}"`)),
          });
          expect(() => new Primus(new EventEmitter() as never, { transformer: textOnly, parser })).toThrow(refusal);
          expect(() => Primus.createSocket({ transformer: textOnly, parser })).toThrow(refusal);
          const server = await startServer({ transformer: textOnly });
          defer(() => server.close());
          expect(() => server.primus.parsers(parser)).toThrow(refusal);
          expect(server.primus.parser.name).toBe('json');
        },
        timeout,
      );
    }

    if (options.happn) {
      const { module: happn, parser: happnParser, transformer: happnTransformer = 'websockets' } = options.happn;
      const HappnClient = happn.createSocket({ transformer: happnTransformer, parser: happnParser, pathname: '/primus' });
      const pairings = [
        { name: 'happn-primus client -> our server', Client: HappnClient, start: () => happnInterop.startOurs(transformer, { parser }) },
        { name: 'our client -> happn-primus server', Client: OurClient, start: () => happnInterop.startHappn(happn, { transformer: happnTransformer, parser: happnParser }) },
      ];

      describe.each(pairings)('$name', ({ Client, start }) => {
        function connect(target: happnInterop.Server, clientOptions: Record<string, unknown> = {}): happnInterop.Client {
          const client = new Client(target.url, clientOptions);
          // happn-primus's Node client is a Node stream: an unheard `error` would throw.
          client.on('error', () => {});
          defer(() => client.destroy());
          return client;
        }

        async function pair(clientOptions: Record<string, unknown> = {}): Promise<{ client: happnInterop.Client; spark: Promise<happnInterop.Spark> }> {
          const target = await start();
          defer(() => target.close());
          const spark = happnInterop.nextSpark(target);
          return { client: connect(target, clientOptions), spark };
        }

        it(
          'carries every sample both ways',
          async () => {
            const target = await start();
            defer(() => target.close());
            await expectSamplesBothWays(target, () => connect(target));
          },
          timeout,
        );

        it(
          'keeps the heartbeat going and gives the client its spark id',
          async () => {
            const { client, spark } = await pair({ ping: 50, pong: 2000 });
            let pongs = 0;
            client.on('incoming::pong', () => pongs++);
            await waitFor(() => pongs >= 3, 5000, 'three pongs');
            const id = await new Promise<string>((resolve) => client.id(resolve));
            expect(id).toBe((await spark).id);
            expect(client.readyState).toBe(happnInterop.OPEN);
          },
          timeout,
        );

        it(
          'ends the client for good on spark.end(data), data first',
          async () => {
            const { client, spark } = await pair({ reconnect: { min: 20 } });
            await once(client, 'open');
            const data: unknown[] = [];
            client.on('data', (value: unknown) => data.push(describeValue(value)));
            const ended = once(client, 'end');
            (await spark).end(samples[0]!.value);
            await ended;
            expect(data).toEqual([expected(samples[0]!)]);
            expect(client.readyState).toBe(happnInterop.CLOSED);
          },
          timeout,
        );
      });
    }

    if (options.browser !== false) browserTests(options, ours, defer);
  });
}

function browserTests(options: ParserSuiteOptions, ours: (handler?: Parameters<typeof startServer>[3]) => Promise<TestServer>, defer: (cleanup: () => unknown) => void): void {
  const { samples, timeout = 20000 } = options;
  const executablePath = options.executablePath ?? process.env.PRIMUS_CHROMIUM ?? '/usr/bin/chromium';
  let browser: import('playwright-core').Browser;
  type Page = import('playwright-core').Page;

  beforeAll(async () => {
    if (!existsSync(executablePath)) {
      throw new Error(`Chromium not found at ${executablePath}: install it (apt-get install chromium) or set PRIMUS_CHROMIUM`);
    }
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
  }, 60000);

  afterAll(async () => {
    await browser?.close();
  });

  /** Serve a page that loads primus.js and connects; the browser context is closed after the test. */
  async function open(clientOptions: Record<string, unknown> = {}): Promise<{ server: TestServer; tab: Page; connected: Promise<boolean> }> {
    const server = await ours((_req, res) => {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(page);
    });
    const context = await browser.newContext();
    defer(() => context.close());
    const tab = await context.newPage();
    await tab.goto(server.url + '/');
    const connected = tab.evaluate((opts) => (window as unknown as { connect(o: unknown): Promise<boolean> }).connect(opts), clientOptions);
    return { server, tab, connected };
  }

  describe('in Chromium, through primus.js', () => {
    it(
      'carries every sample both ways between a browser and our server',
      async () => {
        const { server, tab, connected } = await open();
        const received: unknown[] = [];
        const sparkP = once<[OurSpark]>(server.primus, 'connection');
        server.primus.on('connection', (spark: OurSpark) => spark.on('data', (data: unknown) => received.push(describeValue(data))));
        await connected;
        const [spark] = await sparkP;
        const writes = samples.map((sample) => {
          if (!sample.browser) throw new Error(`the sample "${sample.name}" has no browser expression`);
          return `primus.write(${sample.browser});`;
        });
        await tab.evaluate(`(function () { ${writes.join('\n')} })()`);
        await waitFor(() => received.length === samples.length, 10000, 'every sample at the server');
        expect(received).toEqual(samples.map(expected));

        for (const sample of samples) spark.write(sample.value);
        const inBrowser = await waitFor(
          async () => {
            const got = await tab.evaluate(() => (window as unknown as { received: unknown[] }).received);
            return got.length === samples.length ? got : undefined;
          },
          10000,
          'every sample in the browser',
        );
        expect(inBrowser).toEqual(samples.map(expected));
        expect(await tab.evaluate(() => (window as unknown as { errors: string[] }).errors)).toEqual([]);
      },
      timeout,
    );

    it(
      'keeps the heartbeat going in the browser',
      async () => {
        const { tab, connected } = await open({ ping: 50, pong: 2000 });
        await connected;
        await waitFor(async () => (await tab.evaluate(() => (window as unknown as { pongs: number }).pongs)) >= 3, 10000, 'three pongs in the browser');
      },
      timeout,
    );
  });
}
