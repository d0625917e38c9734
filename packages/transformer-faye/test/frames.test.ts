// The frames the server half builds itself (per-tick corking, broadcast frames built once): read
// back by faye-websocket's own client, and in the order they were written, whatever path each took.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import Faye from 'faye-websocket';
import permessageDeflate from 'permessage-deflate';
import { Primus, type Spark } from '@primus/core';
import faye from '../src';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function server(compression: boolean) {
  const httpServer = http.createServer();
  const primus = new Primus(httpServer, { transformer: faye, compression });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => primus.destroy({ close: true }, () => resolve())));
  return { primus, port: (httpServer.address() as AddressInfo).port };
}

/** A faye-websocket client of the Primus wire: every message it receives, decoded. */
async function rawClient(port: number, deflate: boolean) {
  const ws = new Faye.Client(`ws://127.0.0.1:${port}/primus?ping=false`, [], { extensions: deflate ? [permessageDeflate] : [] });
  const received: unknown[] = [];
  const waiting: Array<() => void> = [];
  ws.on('message', (event: Faye.MessageEvent) => {
    received.push(typeof event.data === 'string' ? JSON.parse(event.data) : Buffer.from(event.data));
    waiting.splice(0).forEach((wake) => wake());
  });
  cleanup.push(() => ws.close());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', (event: Faye.ErrorEvent) => reject(new Error(event.message)));
  });
  const next = () => new Promise<void>((resolve) => waiting.push(resolve));
  return { received, next };
}

describe('writes of one tick', () => {
  it.each([false, true])('keep their order across own frames, faye frames and broadcasts (compression %s)', async (compression) => {
    const { primus, port } = await server(compression);
    const sparks: Spark[] = [];
    const connected = new Promise<void>((resolve) =>
      primus.on('connection', (spark: Spark) => {
        sparks.push(spark);
        if (sparks.length === 2) resolve();
      }),
    );
    const plain = await rawClient(port, false);
    const deflating = await rawClient(port, true);
    await connected;
    const big = 'z'.repeat(100 * 1024);
    for (const spark of sparks) {
      spark.write(1);
      spark.write(big); // larger than the frames built here: framed by faye's driver
    }
    primus.write('everyone');
    for (const spark of sparks) spark.write(2);
    const expected = [1, big, 'everyone', 2];
    for (const client of [plain, deflating]) {
      while (client.received.length < expected.length) await client.next();
      expect(client.received).toEqual(expected);
    }
  });
});
