import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { PrimusOptions, Spark } from '@primus/core';
import { collect, nextSpark, once } from '@primus/transformer-test-suite';
import { cleanup, connectRaw, detached, flush, start } from './helpers';

afterEach(cleanup);

/**
 * A spark on a detached server, with everything the heartbeat does recorded in order: the pongs
 * it sends (with their values) and the server's heartbeat events.
 */
async function watch(query: string, options: PrimusOptions = {}) {
  const primus = detached(options);
  const spark = new primus.Spark({}, {}, query);
  await flush();
  const log: string[] = [];
  const pongs: number[] = [];
  spark.on('outgoing::data', (payload) => {
    const message = JSON.parse(String(payload)) as string;
    log.push(message.startsWith('primus::pong::') ? 'pong' : message);
    if (message.startsWith('primus::pong::')) pongs.push(Number(message.slice(14)));
  });
  spark.on('heartbeat', () => log.push('heartbeat'));
  primus.on('heartbeat-skipped', (count: number, which: Spark) => log.push(`skipped ${count}${which === spark ? '' : ' (wrong spark)'}`));
  primus.on('disconnection', () => log.push('disconnection'));
  primus.on('flatline', (count: number, which: Spark) => log.push(`flatline ${count}${which === spark ? '' : ' (wrong spark)'}`));
  const ping = (time: number | string = Date.now()) => spark.incomingData(JSON.stringify(`primus::ping::${time}`));
  return { primus, spark, log, pongs, ping };
}

describe('heartbeat (fake timers)', () => {
  beforeEach(() => {
    // Announcements run on the next tick; only the clock is under test here.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('waits ping + pong/2 for a ping, then reports a skip and sends an unsolicited pong with the server clock', async () => {
    const { spark, log, pongs } = await watch('ping=1000&pong=400');
    jest.advanceTimersByTime(1199);
    expect(log).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(log).toEqual(['skipped 1', 'pong']);
    expect(pongs).toEqual([Date.now()]);
    expect(spark.readyState).toBe(3);
  });

  it('ends a silent spark after allowSkippedHeartBeats + 1 periods, for a reconnect: disconnection, then flatline', async () => {
    const { spark, log } = await watch('ping=1000&pong=400');
    let ended = false;
    spark.on('end', () => (ended = true));
    jest.advanceTimersByTime(3 * 1200 - 1);
    expect(ended).toBe(false);
    jest.advanceTimersByTime(1);
    expect(log).toEqual(['skipped 1', 'pong', 'skipped 2', 'pong', 'disconnection', 'flatline 3']);
    expect(ended).toBe(true);
    expect(spark.readyState).toBe(2);
  });

  it.each([0, 1, -3, undefined])('tolerates at least two skips even with allowSkippedHeartBeats %p', async (allowSkippedHeartBeats) => {
    const { log } = await watch('ping=1000&pong=400', { allowSkippedHeartBeats });
    jest.advanceTimersByTime(2 * 1200);
    expect(log).not.toContain('disconnection');
    jest.advanceTimersByTime(1200);
    expect(log.slice(-2)).toEqual(['disconnection', 'flatline 3']);
  });

  it('honours a larger allowSkippedHeartBeats', async () => {
    const { log } = await watch('ping=1000&pong=400', { allowSkippedHeartBeats: 4 });
    jest.advanceTimersByTime(5 * 1200 - 1);
    expect(log.filter((entry) => entry.startsWith('skipped'))).toEqual(['skipped 1', 'skipped 2', 'skipped 3', 'skipped 4']);
    expect(log).not.toContain('disconnection');
    jest.advanceTimersByTime(1);
    expect(log.slice(-1)).toEqual(['flatline 5']);
  });

  it('answers a ping with a pong that echoes its time, and restarts the wait', async () => {
    const { log, pongs, ping } = await watch('ping=1000&pong=400');
    jest.advanceTimersByTime(1000);
    ping(123456);
    expect(log).toEqual(['pong', 'heartbeat']);
    expect(pongs).toEqual([123456]);
    jest.advanceTimersByTime(1199);
    expect(log).toEqual(['pong', 'heartbeat']);
    jest.advanceTimersByTime(1);
    expect(log.slice(2)).toEqual(['skipped 1', 'pong']);
  });

  it('answers a ping whose time is 0 or garbage with the server clock', async () => {
    const { pongs, ping } = await watch('ping=1000&pong=400', { pongSkipTime: 0 });
    ping(0);
    jest.advanceTimersByTime(5);
    ping('soon');
    expect(pongs).toEqual([Date.now() - 5, Date.now()]);
  });

  it('resets the skip count on a ping, so a late client is never dropped', async () => {
    const { log, ping } = await watch('ping=1000&pong=400');
    for (let cycle = 0; cycle < 5; cycle++) {
      jest.advanceTimersByTime(1200);
      jest.advanceTimersByTime(300);
      ping();
    }
    expect(log.filter((entry) => entry.startsWith('skipped'))).toEqual(Array(5).fill('skipped 1'));
    expect(log).not.toContain('disconnection');
  });

  it('is not reset by application data', async () => {
    const { spark, log } = await watch('ping=1000&pong=400');
    jest.advanceTimersByTime(1100);
    spark.incomingData('"just data"');
    jest.advanceTimersByTime(100);
    expect(log).toEqual(['skipped 1', 'pong']);
  });

  it('answers pings that arrive together once (pongSkipTime)', async () => {
    const { pongs, ping } = await watch('ping=1000&pong=400');
    ping(1);
    jest.advanceTimersByTime(1);
    ping(2);
    jest.advanceTimersByTime(998);
    ping(3);
    expect(pongs).toEqual([1]);
    jest.advanceTimersByTime(1);
    ping(4);
    expect(pongs).toEqual([1, 4]);
  });

  it('suppresses an unsolicited pong within pongSkipTime of the previous pong', async () => {
    const { log } = await watch('ping=1000&pong=400', { pongSkipTime: 1500 });
    jest.advanceTimersByTime(2 * 1200);
    expect(log).toEqual(['skipped 1', 'pong', 'skipped 2']);
  });

  it('suppresses an unsolicited pong shortly after a reply', async () => {
    const { log, ping } = await watch('ping=1000&pong=400', { pongSkipTime: 1500 });
    ping();
    jest.advanceTimersByTime(1200);
    expect(log).toEqual(['pong', 'heartbeat', 'skipped 1']);
  });

  it('always answers a ping, even right after an unsolicited pong (replies are only deduplicated against replies)', async () => {
    const { log, pongs, ping } = await watch('ping=1000&pong=400');
    jest.advanceTimersByTime(1200);
    jest.advanceTimersByTime(50);
    ping(777);
    expect(log).toEqual(['skipped 1', 'pong', 'pong', 'heartbeat']);
    expect(pongs[1]).toBe(777);
  });

  it('treats a transport-level ping (a WebSocket ping frame) as a heartbeat without answering it', async () => {
    const { spark, log } = await watch('ping=1000&pong=400');
    jest.advanceTimersByTime(1000);
    spark.incomingPing();
    expect(log).toEqual(['heartbeat']);
    jest.advanceTimersByTime(1199);
    expect(log).toEqual(['heartbeat']);
    jest.advanceTimersByTime(1);
    expect(log).toEqual(['heartbeat', 'skipped 1', 'pong']);
  });

  it('never times out a client that asked for ping=false, whatever pings arrive', async () => {
    const { spark, log, ping } = await watch('ping=false');
    expect(spark.timeout).toBeNull();
    ping();
    spark.incomingPing();
    jest.advanceTimersByTime(60 * 60 * 1000);
    expect(spark.readyState).toBe(3);
    expect(spark.timeout).toBeNull();
    expect(log.filter((entry) => entry.startsWith('skipped') || entry === 'disconnection')).toEqual([]);
  });

  it('stops the timer when the spark ends', async () => {
    const { spark, log } = await watch('ping=1000&pong=400');
    spark.end();
    log.length = 0;
    jest.advanceTimersByTime(10 * 1200);
    expect(log).toEqual([]);
    expect(spark.timeout).toBeNull();
  });

  it('clamps the learned interval to MIN_HEARTBEAT', async () => {
    const { log } = await watch('ping=1&pong=1');
    jest.advanceTimersByTime(149);
    expect(log).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(log).toEqual(['skipped 1', 'pong']);
  });

  it('emits heartbeat on the spark when heartbeat() is called', async () => {
    const { spark, log } = await watch('ping=1000&pong=400');
    spark.heartbeat();
    expect(log).toEqual(['heartbeat']);
  });
});

describe('heartbeat (real time)', () => {
  it('a silent raw client gets two unsolicited pongs, then the server closes it and reports a flatline', async () => {
    const server = await start({ pongSkipTime: 50 });
    const flatline = once(server.primus, 'flatline');
    const client = await connectRaw(server, 'ping=100&pong=100');
    expect(client.spark.query).toMatchObject({ ping: 100, pong: 100 });
    expect(await client.next(2000)).toMatch(/^"primus::pong::\d+"$/);
    expect(await client.next(2000)).toMatch(/^"primus::pong::\d+"$/);
    expect(await client.closed).toBe(1000);
    expect((await flatline)[0]).toBe(3);
  });

  it('keeps a pinging client connected without skips', async () => {
    const server = await start({ pongSkipTime: 20 });
    const skipped: number[] = [];
    server.primus.on('heartbeat-skipped', (count: number) => skipped.push(count));
    const sparkReady = nextSpark(server.primus);
    const client = server.client({ ping: 100, pong: 300 });
    const spark = await sparkReady;
    await collect(spark, 'heartbeat', 4, 5000);
    expect(skipped).toEqual([]);
    expect(client.readyState).toBe(3);
  });

  it('a WebSocket ping frame resets the heartbeat and is not answered with a pong', async () => {
    const server = await start();
    const client = await connectRaw(server);
    const heartbeat = once(client.spark, 'heartbeat');
    client.ws.ping();
    client.send('primus::id::');
    await heartbeat;
    // Frames arrive in order: had the ping frame produced a pong, it would come before the id.
    expect(await client.next()).toBe(JSON.stringify(`primus::id::${client.spark.id}`));
  });
});
