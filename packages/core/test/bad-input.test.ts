import { afterEach, describe, expect, it } from '@jest/globals';
import type { Packet, Spark } from '@primus/core';
import { nextSpark, once } from '@primus/transformer-test-suite';
import { cleanup, connectRaw, rawExchange, start, upgradeRequest } from './helpers';

afterEach(cleanup);

/** Resolve with the next `data` on a spark, proving the connection still works. */
function nextData(spark: Spark): Promise<unknown> {
  return once(spark, 'data').then(([data]) => data);
}

describe('control messages', () => {
  it('answers primus::id:: with the spark id', async () => {
    const server = await start();
    const client = await connectRaw(server);
    client.send('primus::id::');
    expect(await client.next()).toBe(JSON.stringify(`primus::id::${client.spark.id}`));
  });

  it('ignores unknown primus:: messages instead of delivering them as data', async () => {
    const server = await start();
    const client = await connectRaw(server);
    const seen: unknown[] = [];
    client.spark.on('data', (data) => seen.push(data));
    client.send('primus::pong::12345');
    client.send('primus::whatever::x');
    client.send('after');
    await nextData(client.spark);
    expect(seen).toEqual(['after']);
  });

  it('does not run incoming message transformers on control messages', async () => {
    const server = await start();
    const transformed: unknown[] = [];
    server.primus.transform('incoming', (packet: Packet) => void transformed.push(packet.data));
    const client = await connectRaw(server);
    client.send('primus::ping::1');
    client.send('data');
    await nextData(client.spark);
    expect(transformed).toEqual(['data']);
  });
});

describe('bad input from the network', () => {
  it('reports invalid JSON as a decode error and keeps the connection', async () => {
    const server = await start();
    const client = await connectRaw(server);
    const error = once<[Error & { code?: string }]>(client.spark, 'error');
    client.ws.send('{not json');
    const [err] = await error;
    expect(err.code).toBe('PRIMUS_ERR_PARSER_DECODE');
    expect(err.message).toMatch(/decode/);
    client.send('still here');
    expect(await nextData(client.spark)).toBe('still here');
  });

  it('decodes a binary frame as UTF-8 JSON', async () => {
    const server = await start();
    const client = await connectRaw(server);
    const data = nextData(client.spark);
    client.ws.send(Buffer.from(JSON.stringify({ binary: 'ü€' })));
    expect(await data).toEqual({ binary: 'ü€' });
  });

  it('reports a binary frame that is not UTF-8 JSON as a decode error and keeps the connection', async () => {
    const server = await start();
    const client = await connectRaw(server);
    const error = once<[Error & { code?: string }]>(client.spark, 'error');
    client.ws.send(Buffer.from([0xff, 0xfe, 0x00]));
    expect((await error)[0].code).toBe('PRIMUS_ERR_PARSER_DECODE');
    client.send('fine');
    expect(await nextData(client.spark)).toBe('fine');
  });

  it('logs bad input instead of throwing when the spark has no error listener', async () => {
    const server = await start();
    const logged: unknown[][] = [];
    server.primus.on('log', (...args) => logged.push(args));
    const client = await connectRaw(server);
    expect(client.spark.listenerCount('error')).toBe(0);
    client.ws.send('{not json');
    client.ws.send(Buffer.from([0xff]));
    client.send('alive');
    expect(await nextData(client.spark)).toBe('alive');
    const codes = logged.filter(([level]) => level === 'error').map(([, err]) => (err as { code?: string }).code);
    expect(codes).toEqual(['PRIMUS_ERR_PARSER_DECODE', 'PRIMUS_ERR_PARSER_DECODE']);
  });

  it('closes a connection that sends more than maxLength bytes with 1009 and keeps serving the others', async () => {
    const server = await start({ maxLength: 1024 });
    const bystander = await connectRaw(server);
    const offender = await connectRaw(server);
    const ended = once(offender.spark, 'end');
    offender.ws.send(JSON.stringify('x'.repeat(2048)));
    expect(await offender.closed).toBe(1009);
    await ended;
    expect(server.primus.connected).toBe(1);

    bystander.send('x'.repeat(1000));
    expect(await nextData(bystander.spark)).toBe('x'.repeat(1000));
    const newcomer = await connectRaw(server);
    newcomer.send('hi');
    expect(await nextData(newcomer.spark)).toBe('hi');
  });

  it('never delivers an oversized frame, and needs no error listener to close it', async () => {
    const server = await start({ maxLength: 100 });
    const client = await connectRaw(server);
    const seen: unknown[] = [];
    client.spark.on('data', (data) => seen.push(data));
    client.ws.send(JSON.stringify('y'.repeat(500)));
    expect(await client.closed).toBe(1009);
    expect(seen).toEqual([]);
  });

  it.each(['ping=abc&pong=def', 'ping=-1', 'ping=1e400', 'ping[]=1&pong[x]=2', '%E0%A4%A'])('survives a bogus query (%s) and uses sane heartbeat values', async (query) => {
    const server = await start();
    const client = await connectRaw(server, query);
    expect(typeof client.spark.query.ping).toBe('number');
    expect(client.spark.query.ping).toBeGreaterThan(0);
    client.send('ok');
    expect(await nextData(client.spark)).toBe('ok');
  });

  it('refuses an upgrade without a valid WebSocket key and keeps serving', async () => {
    const server = await start();
    const bad = upgradeRequest('/primus').replace('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Key: nope');
    const answer = await rawExchange(server.port, bad);
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    const sparkReady = nextSpark(server.primus);
    server.client();
    await sparkReady;
  });

  it('a client that vanishes mid-message does not take the server down', async () => {
    const server = await start();
    const client = await connectRaw(server);
    const ended = once(client.spark, 'end');
    // Half a frame header, then a reset.
    (client.ws as unknown as { _socket: import('node:net').Socket })._socket.write(Buffer.from([0x81]));
    client.ws.terminate();
    await ended;
    const again = await connectRaw(server);
    again.send('back');
    expect(await nextData(again.spark)).toBe('back');
  });
});
