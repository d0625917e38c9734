// The frames the server half builds itself (per-tick corking, broadcast frames built once): the same
// bytes as ws's own framing, and in the order they were written, whatever path each one took.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { Primus, type Spark } from '@primus/core';
import websockets from '../src';
import { websocketFrame } from '@primus/core/contract';

/** ws's own framing (exported as `WebSocket.Sender`, not in its type declarations). */
const { Sender } = WebSocket as unknown as { Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] } };

describe('websocketFrame', () => {
  const sizes = [0, 1, 125, 126, 127, 65535, 65536, 70000];
  it.each(sizes)('frames a %i-byte text or binary payload as ws does', (size) => {
    const text = 'é'.repeat(Math.floor(size / 2)) + 'x'.repeat(size % 2);
    const bytes = Buffer.alloc(size, 7);
    const frame = (data: Buffer, opcode: number) => Buffer.concat(Sender.frame(data, { fin: true, opcode, mask: false, readOnly: false, rsv1: false }));
    expect(websocketFrame(text).equals(frame(Buffer.from(text), 1))).toBe(true);
    expect(websocketFrame(bytes).equals(frame(bytes, 2))).toBe(true);
    expect(websocketFrame(new Uint8Array(bytes)).equals(frame(bytes, 2))).toBe(true);
  });
});

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function server(compression: boolean) {
  const httpServer = http.createServer();
  const primus = new Primus(httpServer, { transformer: websockets, compression });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => primus.destroy({ close: true }, () => resolve())));
  return { primus, port: (httpServer.address() as AddressInfo).port };
}

/** A raw ws client of the Primus wire: every frame it receives, decoded. */
async function rawClient(port: number, perMessageDeflate: boolean) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/primus?ping=false`, { perMessageDeflate });
  const received: unknown[] = [];
  ws.on('message', (data, isBinary) => received.push(isBinary ? Buffer.from(data as Buffer) : JSON.parse(String(data))));
  cleanup.push(() => ws.terminate());
  await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { ws, received };
}

describe('writes of one tick', () => {
  it.each([false, true])('keep their order across own frames, ws frames and broadcasts (compression %s)', async (compression) => {
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
      spark.write(big); // larger than the frames built here: sent through ws
    }
    primus.write('everyone');
    for (const spark of sparks) spark.write(2);
    const expected = [1, big, 'everyone', 2];
    for (const client of [plain, deflating]) {
      while (client.received.length < expected.length) await new Promise((resolve) => client.ws.once('message', resolve));
      expect(client.received).toEqual(expected);
    }
  });
});
