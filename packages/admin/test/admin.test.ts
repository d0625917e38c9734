import { afterEach, describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { Primus } from '@primus/core';
import { nextSpark, once, upgrade, waitFor } from '@primus/transformer-test-suite';
import binary from '@primus/parser-binary';
import engineio from '@primus/transformer-engineio';
import { admin } from '../src/index';
import { BASIC, cleanup, CREDENTIALS, get, onCleanup, start, token } from './helpers';

afterEach(cleanup);

type Message = { type: string; [key: string]: any };

/** A Node client of the admin feed, with every message it received. */
async function feedClient(server: Awaited<ReturnType<typeof start>>, feedToken: string) {
  const feed = server.primus.admin!.feed;
  const client = new feed.Socket(`${server.url}/?token=${encodeURIComponent(feedToken)}`);
  client.on('error', () => {});
  onCleanup(() => client.destroy());
  const messages: Message[] = [];
  client.on('data', (message: Message) => messages.push(message));
  await once(client, 'open');
  await waitFor(() => messages.some((m) => m.type === 'snapshot'), 5000, 'the snapshot');
  return { client, messages };
}

describe('the admin page', () => {
  it('is refused without credentials: 401 with a Basic challenge, and no data', async () => {
    const server = await start();
    const none = await get(server.url + '/primus/admin');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Basic realm="Primus admin", charset="UTF-8"');
    expect(none.body).not.toContain('admin-config');
    const wrong = await get(server.url + '/primus/admin', { authorization: `Basic ${Buffer.from('ops:nope').toString('base64')}` });
    expect(wrong.status).toBe(401);
    // Anything else under the page's path asks for the credentials too.
    expect((await get(server.url + '/primus/admin/anything')).status).toBe(401);
  });

  it('is served to the credentials, self-contained, with a strict content security policy', async () => {
    const server = await start();
    const page = await get(server.url + '/primus/admin', BASIC);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'nonce-[^']+'/);
    // Nothing from another origin: every src is a path of this server.
    for (const [, src] of page.body.matchAll(/src="([^"]+)"/g)) expect(src).toMatch(/^\/primus\/admin\/feed\/primus\.js\?token=/);
    expect(page.body).not.toMatch(/(src|href)=["']?[a-z]+:/i);
    expect(page.body).not.toMatch(/url\(|@import|fetch\(|XMLHttpRequest/);
  });

  it('takes its own auth function instead of basic credentials', async () => {
    const server = await start({ auth: (req) => req.headers['x-operator'] === 'yes' });
    expect((await get(server.url + '/primus/admin')).status).toBe(401);
    expect((await get(server.url + '/primus/admin', { 'x-operator': 'yes' })).status).toBe(200);
  });

  it("answers before the server's authorization hook, which still guards the application", async () => {
    const server = await start({}, { authorization: (_req, done) => done(Object.assign(new Error('clients only'), { statusCode: 403 })) });
    expect((await get(server.url + '/primus/admin', BASIC)).status).toBe(200);
    expect((await get(server.url + '/primus/spec')).status).toBe(200);
  });
});

describe('the live feed', () => {
  it('refuses every request and connection without a valid token', async () => {
    const server = await start();
    const feedToken = await token(server);
    expect((await get(server.url + '/primus/admin/feed/primus.js')).status).toBe(401);
    expect((await get(server.url + '/primus/admin/feed/primus.js', BASIC)).status).toBe(401);
    expect((await get(server.url + `/primus/admin/feed/primus.js?token=${encodeURIComponent(feedToken)}`)).status).toBe(200);
    expect((await upgrade(`${server.url}/primus/admin/feed`)).status).toBe(401);
    const forged = feedToken.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await upgrade(`${server.url}/primus/admin/feed?token=${encodeURIComponent(forged)}`)).status).toBe(401);
    const expired = `${(Date.now() - 1000).toString(36)}.${feedToken.split('.')[1]}`;
    expect((await upgrade(`${server.url}/primus/admin/feed?token=${encodeURIComponent(expired)}`)).status).toBe(401);
    const ok = await upgrade(`${server.url}/primus/admin/feed?token=${encodeURIComponent(feedToken)}`);
    expect(ok.status).toBe(101);
    ok.socket?.destroy();
  });

  it('sends a snapshot, then sparks connecting and ending with their reason, to admin pages only', async () => {
    const server = await start();
    const app = server.client();
    const appReceived: unknown[] = [];
    app.on('data', (data: unknown) => appReceived.push(data));
    await once(app, 'open');
    const { messages } = await feedClient(server, await token(server));
    const snapshot = messages.find((m) => m.type === 'snapshot')!;
    expect(snapshot.sparks).toHaveLength(1);
    expect(snapshot.sparks[0]).toMatchObject({ address: expect.stringMatching(/^127\.0\.0\.1:\d+$/), transformer: 'websockets', lastHeartbeat: null, latency: null });
    expect(snapshot.cluster).toBeUndefined();

    const arriving = nextSpark(server.primus);
    const other = server.client();
    await once(other, 'open');
    const spark = await arriving;
    await waitFor(() => messages.some((m) => m.type === 'changes' && m.connected.some((r: { id: string }) => r.id === spark.id)), 2000, 'the new spark on the feed');
    other.end();
    await waitFor(
      () => messages.some((m) => m.type === 'changes' && m.disconnected.some((r: { id: string; reason: string }) => r.id === spark.id && r.reason === 'client')),
      2000,
      'the disconnection on the feed',
    );
    // The application's own spark got nothing of it, and the feed is no spark of the application.
    expect(appReceived).toEqual([]);
    expect(server.primus.connected).toBe(1);
  });

  it('ends a spark on command, and says so when the spark is not here', async () => {
    const server = await start();
    const arriving = nextSpark(server.primus);
    const victim = server.client();
    await once(victim, 'open');
    const spark = await arriving;
    const { client, messages } = await feedClient(server, await token(server));
    const ended = once(spark, 'end');
    client.write({ type: 'end', id: spark.id });
    await ended;
    expect(spark.endReason).toBe('server');
    await waitFor(() => messages.some((m) => m.type === 'ended' && m.id === spark.id && m.ok === true), 2000, 'the confirmation');
    client.write({ type: 'end', id: 'no-such-spark' });
    client.write({ type: 'drop tables' });
    client.write('garbage');
    await waitFor(() => messages.some((m) => m.type === 'ended' && m.id === 'no-such-spark' && m.ok === false), 2000, 'the refusal');
  });

  it("shows each spark's last heartbeat and the latency its client saw", async () => {
    const server = await start({}, { pongSkipTime: 50 });
    const { messages } = await feedClient(server, await token(server));
    const arriving = nextSpark(server.primus);
    const client = server.client({ ping: 150 });
    await once(client, 'open');
    const spark = await arriving;
    const update = await waitFor(
      () => messages.flatMap((m) => (m.type === 'changes' ? m.updated : [])).find((u: { id: string; latency: number | null }) => u.id === spark.id && u.latency !== null),
      5000,
      'a latency',
    );
    expect(update.lastHeartbeat).toBeGreaterThan(Date.now() - 5000);
    expect(update.latency).toBeGreaterThanOrEqual(0);
    expect(update.latency).toBeLessThan(1000);
  });

  it('samples message and connection rates', async () => {
    const server = await start({ interval: 100 });
    const { messages } = await feedClient(server, await token(server));
    const client = server.client();
    await once(client, 'open');
    client.write('one');
    client.write('two');
    await waitFor(() => messages.some((m) => m.type === 'sample' && m.sample.received > 0 && m.sample.sent > 0), 3000, 'a sample with messages');
    await waitFor(() => messages.some((m) => m.type === 'sample' && m.sample.connections > 0), 3000, 'a sample with a connection');
  });

  it('does not count the heartbeat as messages, with a binary parser too', async () => {
    const server = await start({ interval: 100 }, { parser: binary, pongSkipTime: 10 });
    const { messages } = await feedClient(server, await token(server));
    const client = server.client({ ping: 100 });
    await once(client, 'open');
    for (let i = 0; i < 3; i++) await once(client, 'incoming::pong');
    const seen = messages.length;
    await waitFor(() => messages.slice(seen).filter((m) => m.type === 'sample').length >= 2, 3000, 'two more samples');
    const samples = messages.filter((m) => m.type === 'sample').map((m) => m.sample);
    expect(samples.every((sample) => sample.received === 0 && sample.sent === 0)).toBe(true);
  });

  it('runs over the server’s own transformer, engine.io included', async () => {
    const server = await start({}, { transformer: engineio });
    const { messages } = await feedClient(server, await token(server));
    expect(messages[0]).toMatchObject({ type: 'snapshot', server: { transformer: 'engine.io' } });
    const arriving = nextSpark(server.primus);
    const client = server.client();
    await once(client, 'open');
    const spark = await arriving;
    await waitFor(() => messages.some((m) => m.type === 'changes' && m.connected.some((r: { id: string }) => r.id === spark.id)), 3000, 'the new spark on the feed');
    expect(server.primus.connected).toBe(1);
    expect(server.primus.admin!.feed.connected).toBe(1);
  });

  it('closes with the server and leaves the HTTP server to the application', async () => {
    const server = await start();
    const { client } = await feedClient(server, await token(server));
    const closed = once(client, 'end');
    await new Promise<void>((resolve) => server.primus.destroy({ close: false }, () => resolve()));
    await closed;
    expect((await get(server.url + '/nothrow')).body).toBe('original listener');
  });
});

describe('options', () => {
  it('throw a TypeError naming the option', () => {
    expect(() => admin(undefined as never)).toThrow(/option "options"/);
    expect(() => admin({} as never)).toThrow(/option "auth" must be an object \{ username, password \} or a function/);
    expect(() => admin({ auth: { username: 'a', password: '' } })).toThrow(/option "auth.password"/);
    expect(() => admin({ auth: CREDENTIALS, path: 'admin' })).toThrow(/option "path"/);
    expect(() => admin({ auth: CREDENTIALS, interval: 0 })).toThrow(/option "interval" must be a positive integer/);
    expect(() => admin({ auth: CREDENTIALS, maxSparks: 1.5 })).toThrow(/option "maxSparks"/);
  });

  it.each([
    ['no options', undefined, /option "options" must be an object with at least \{ auth \}, got undefined/],
    ['a username with a colon', { auth: { username: 'a:b', password: 'c' } }, /option "auth.username" must be a non-empty string without ":"/],
    ['an interval in a string', { auth: CREDENTIALS, interval: '1s' }, /option "interval" must be a positive integer number of ms, got "1s"/],
    ['a negative history', { auth: CREDENTIALS, history: -5 }, /option "history" must be a positive integer, got -5/],
    ['a transformer that is a number', { auth: CREDENTIALS, transformer: 5 }, /option "transformer" must be a transformer name or object, got 5/],
  ])('refuse %s at construction with PRIMUS_ERR_INVALID_OPTION', (_what, options, message) => {
    const make = (): unknown => admin(options as never);
    expect(make).toThrow(TypeError);
    expect(make).toThrow(message);
    expect(make).toThrow(expect.objectContaining({ code: 'PRIMUS_ERR_INVALID_OPTION', message: expect.stringMatching(/^@primus\/admin: option /) }));
  });

  it('refuse a second admin plugin on one server with PRIMUS_ERR_PLUGIN', () => {
    const make = (): unknown =>
      new Primus(new EventEmitter() as never, { transformer: 'websockets', plugin: { one: admin({ auth: CREDENTIALS }), two: admin({ auth: CREDENTIALS }) } });
    expect(make).toThrow(/already has the admin plugin/);
    expect(make).toThrow(expect.objectContaining({ name: 'PrimusError', code: 'PRIMUS_ERR_PLUGIN' }));
  });

  it('refuse a path outside the pathname at construction, leaving the HTTP server as it was', async () => {
    const http = await import('node:http');
    const server = http.createServer();
    expect(() => new Primus(server, { transformer: 'websockets', plugin: { admin: admin({ auth: CREDENTIALS, path: '/admin' }) } })).toThrow(
      /option "path" must be a path under the server's pathname/,
    );
    expect(server.listeners('request')).toEqual([]);
    expect(server.listeners('upgrade')).toEqual([]);
  });

  it('serve the page at another path under the pathname', async () => {
    const server = await start({ path: '/primus/ops/console' });
    expect((await get(server.url + '/primus/ops/console')).status).toBe(401);
    expect((await get(server.url + '/primus/ops/console', BASIC)).status).toBe(200);
    expect((await get(server.url + '/primus/admin', BASIC)).status).not.toBe(200);
    expect(server.primus.admin!.path).toBe('/primus/ops/console');
  });
});
