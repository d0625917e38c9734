import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import websockets from '@primus/transformer-ws';
import { json } from '@primus/parser-json';
import { ParserError, Primus, PrimusError, TRANSFORMER_PACKAGES, type PrimusOptions } from '@primus/core';
import { cleanup, detached, memory } from './helpers';

afterEach(cleanup);

/** Construct a Primus and return what it threw. */
function failure(options: PrimusOptions, ...server: [unknown?]): Error & { code?: string } {
  try {
    const primus = new Primus((server.length ? server[0] : new EventEmitter()) as http.Server, options);
    primus.destroy({ close: false });
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error(`expected new Primus(${JSON.stringify(options)}) to throw`);
}

describe('bad options', () => {
  it.each<[string, PrimusOptions]>([
    ['pathname', { pathname: 5 as never }],
    ['timeout', { timeout: -1 }],
    ['timeout', { timeout: '35 seconds' as never }],
    ['allowSkippedHeartBeats', { allowSkippedHeartBeats: 'many' as never }],
    ['pongSkipTime', { pongSkipTime: -1 }],
    ['pongSkipTime', { pongSkipTime: '1s' as never }],
    ['maxLength', { maxLength: 0 }],
    ['maxLength', { maxLength: 1.5 }],
    ['global', { global: 'not an identifier' }],
    ['global', { global: 5 as never }],
    ['compression', { compression: 'yes' as never }],
    ['credentials', { credentials: 1 as never }],
    ['origins', { origins: 5 as never }],
    ['origins', { origins: ['http://ok.example', 7] as never }],
    ['methods', { methods: {} as never }],
    ['headers', { headers: 1 as never }],
    ['exposed', { exposed: true as never }],
    ['maxAge', { maxAge: {} as never }],
    ['authorization', { authorization: 'yes' as never }],
    ['trustedProxies', { trustedProxies: '127.0.0.1' as never }],
    ['trustedProxies', { trustedProxies: ['proxy.internal'] }],
    ['plugin', { plugin: 42 as never }],
  ])('throws a TypeError naming %s', (name, options) => {
    const err = failure({ transformer: memory, ...options });
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toContain(`"${name}"`);
    expect(err.code).toBe('PRIMUS_ERR_INVALID_OPTION');
  });

  it('rejects a highWaterMark that is not an integer of at least 16 KiB, naming the option', () => {
    expect(failure({ transformer: memory, highWaterMark: 0 }).message).toMatch(/highWaterMark/);
    // Below a Node socket's own mark no 'drain' would ever follow a false write().
    expect(failure({ transformer: memory, highWaterMark: 16383 }).message).toMatch(/highWaterMark.*16384/);
    expect(failure({ transformer: memory, highWaterMark: 16384.5 }).message).toMatch(/highWaterMark/);
  });

  it('throws a TypeError when the options are not an object', () => {
    expect(() => new Primus(new EventEmitter() as unknown as http.Server, 'websockets' as never)).toThrow(TypeError);
  });

  it('leaves the HTTP server untouched when an option is rejected', () => {
    const server = http.createServer();
    const onRequest = (): void => {};
    server.on('request', onRequest);
    failure({ transformer: memory, maxLength: -1 }, server);
    failure({ transformer: 'no-such-thing' }, server);
    failure({ transformer: memory, plugin: 42 as never }, server);
    failure({ transformer: memory, plugin: { broken: {} } }, server);
    failure({ transformer: memory, plugin: 'no-such-plugin-package' }, server);
    expect(server.listeners('request')).toEqual([onRequest]);
    expect(server.listeners('upgrade')).toEqual([]);
  });

  it('accepts the documented defaults and fills them in', () => {
    const primus = detached();
    expect(primus.options).toMatchObject({
      pathname: '/primus',
      timeout: 35000,
      allowSkippedHeartBeats: 2,
      pongSkipTime: 1000,
      global: 'Primus',
      compression: false,
      maxLength: 10 * 1024 * 1024,
      origins: '*',
      methods: 'GET, HEAD, PUT, POST, DELETE, OPTIONS',
      credentials: true,
      maxAge: '30 days',
      headers: '',
      exposed: '',
    });
    expect(primus.trustedProxies).toBeUndefined();
  });

  it('does not change the options object it was given', () => {
    const options: PrimusOptions = { transformer: memory, pathname: 'rt' };
    detached(options);
    expect(options).toEqual({ transformer: memory, pathname: 'rt' });
  });
});

describe('choosing a transformer', () => {
  it('names the choices when the transformer is unknown', () => {
    const err = failure({ transformer: 'carrier-pigeon' });
    expect(err).toBeInstanceOf(PrimusError);
    expect(err.code).toBe('PRIMUS_ERR_UNKNOWN_TRANSFORMER');
    expect(err.message).toContain('"carrier-pigeon"');
    for (const name of Object.keys(TRANSFORMER_PACKAGES)) expect(err.message).toContain(name);
  });

  it('loads an installed transformer by name, case-insensitively, also through the transport alias', () => {
    expect(detached({ transformer: 'WebSockets' }).transformer).toBe(websockets);
    const primus = new Primus(new EventEmitter() as unknown as http.Server, { transport: 'websockets' });
    expect(primus.spec.transformer).toBe('websockets');
    primus.destroy({ close: false });
  });

  it.each([[[]], [{}], [{ name: 'half', server() {} }], [42]])('refuses %p as a transformer', (transformer) => {
    const err = failure({ transformer: transformer as never });
    expect(err).toBeInstanceOf(PrimusError);
    expect(err.code).toBe('PRIMUS_ERR_INVALID_TRANSFORMER');
  });
});

describe('choosing a parser', () => {
  it('uses JSON by default and by name, case-insensitively', () => {
    expect(detached().parser).toBe(json);
    expect(detached({ parser: 'JSON' }).parser).toBe(json);
  });

  it('refuses a parser name that cannot be a package', () => {
    const err = failure({ transformer: memory, parser: '../../etc' });
    expect(err.code).toBe('PRIMUS_ERR_UNKNOWN_PARSER');
    expect(err.message).toContain('"../../etc"');
  });

  it.each([[() => {}], [{}], [{ encode: JSON.stringify }], [7]])('refuses %p as a parser', (parser) => {
    const err = failure({ transformer: memory, parser: parser as never });
    expect(err.code).toBe('PRIMUS_ERR_INVALID_PARSER');
    expect(err.message).toMatch(/parser/);
  });

  it('accepts a parser object as is', () => {
    const parser = { name: 'mine', encode: JSON.stringify, decode: JSON.parse };
    const primus = detached({ parser });
    expect(primus.parser).toBe(parser);
    expect(primus.spec.parser).toBe('mine');
  });
});

describe('in an application that lacks the package', () => {
  // This workspace contains transformer packages and jest maps every @primus/* name onto it, so
  // "not installed" is tested for real: the core bundled on its own, run by plain Node from an
  // empty directory.
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'primus-app-'));
    const root = join(__dirname, '..', '..');
    await build({
      entryPoints: [join(root, 'core', 'src', 'index.ts')],
      outfile: join(dir, 'core.cjs'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      logLevel: 'silent',
      alias: { '@primus/client': join(root, 'client', 'src', 'index.ts'), '@primus/parser-json': join(root, 'parser-json', 'src', 'index.ts') },
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Construct a Primus with `options` in the application and return what it threw. */
  async function failureInApp(options: PrimusOptions): Promise<{ name: string; code: string; message: string }> {
    const script = `
      const { Primus } = require('./core.cjs');
      try {
        new Primus(new (require('node:events'))(), ${JSON.stringify(options)});
        console.log('null');
      } catch (err) {
        console.log(JSON.stringify({ name: err.name, code: err.code, message: err.message }));
      }`;
    // pnpm's jest launcher sets NODE_PATH to its hoisted packages, which an application would not see.
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: dir, env: { ...process.env, NODE_PATH: '' } });
    return JSON.parse(stdout) as { name: string; code: string; message: string };
  }

  it.each(Object.entries(TRANSFORMER_PACKAGES))('names the package to install for the %s transformer', async (name, pkg) => {
    const err = await failureInApp({ transformer: name });
    expect(err).toMatchObject({ name: 'PrimusError', code: 'PRIMUS_ERR_MISSING_TRANSFORMER' });
    expect(err.message).toContain(`"${name}"`);
    expect(err.message).toContain(`npm install ${pkg}`);
  });

  it('names @primus/transformer-engineio for engine.io', async () => {
    expect((await failureInApp({ transformer: 'engine.io' })).message).toContain('@primus/transformer-engineio');
  });

  it('names the package to install for a parser', async () => {
    const err = await failureInApp({ parser: 'ejson' });
    expect(err).toMatchObject({ name: 'PrimusError', code: 'PRIMUS_ERR_MISSING_PARSER' });
    expect(err.message).toContain('"ejson"');
    expect(err.message).toContain('@primus/parser-ejson');
  });
});

describe('the server argument', () => {
  it.each([[undefined], [null], ['server'], [42], [{}]])('refuses %p', (server: unknown) => {
    const err = failure({ transformer: memory }, server);
    expect(err).toBeInstanceOf(PrimusError);
    expect(err.code).toBe('PRIMUS_ERR_INVALID_SERVER');
    expect(err.message).toContain('HTTP or HTTPS server instance');
  });
});

describe('error classes', () => {
  it('carry a name, a code and a cause', () => {
    const cause = new Error('root');
    const err = new ParserError('PRIMUS_ERR_PARSER_DECODE', 'bad', { cause });
    expect(err).toBeInstanceOf(PrimusError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ParserError');
    expect(err.code).toBe('PRIMUS_ERR_PARSER_DECODE');
    expect(err.cause).toBe(cause);
    expect(new PrimusError('PRIMUS_ERR_PLUGIN', 'x').name).toBe('PrimusError');
  });
});
