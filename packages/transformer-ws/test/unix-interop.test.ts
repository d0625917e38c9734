// Unix domain sockets across implementations: happn-primus's Node client, compiled the way
// happn-primus applications reached a socket, against our server; our client against a
// happn-primus server listening on a socket.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from '@jest/globals';
import { Primus } from '@primus/core';
import { type happnInterop, nextData, once, startSocketServer, type TestServer } from '@primus/transformer-test-suite';
import websockets from '../src';

// happn-primus ships no types and is CommonJS only.
const HappnPrimus = require('happn-primus') as happnInterop.HappnPrimusModule & {
  createSocket(options: Record<string, unknown>): happnInterop.ClientClass;
};

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function socketPath(): string {
  const directory = mkdtempSync(join(tmpdir(), 'primus-'));
  cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
  return join(directory, 'app.sock');
}

it("happn-primus's client reaches our server on a Unix domain socket, through a compiled pathname", async () => {
  const path = socketPath();
  const server: TestServer = await startSocketServer({ transformer: websockets }, path);
  cleanups.push(() => server.close());
  server.primus.on('connection', (spark) => spark.on('data', (data: unknown) => spark.write(data)));
  const Socket = HappnPrimus.createSocket({ transformer: 'websockets', pathname: `${path}:/primus` });
  const client = new Socket('ws+unix://localhost');
  cleanups.push(() => client.destroy());
  await once(client, 'open');
  client.write({ over: 'the socket' });
  expect((await once(client, 'data'))[0]).toEqual({ over: 'the socket' });
}, 20000);

it('our client reaches a happn-primus server on a Unix domain socket, with the query', async () => {
  const path = socketPath();
  const httpServer = http.createServer();
  const happn = new HappnPrimus(httpServer, { transformer: 'websockets' });
  await new Promise<void>((resolve) => httpServer.listen(path, resolve));
  cleanups.push(() => new Promise<void>((resolve) => happn.destroy({ close: true }, resolve)));
  const first = new Promise<[unknown, happnInterop.Spark]>((resolve) =>
    happn.on('connection', (spark: happnInterop.Spark) => spark.on('data', (data: unknown) => resolve([data, spark]))),
  );
  const Socket = Primus.createSocket({ transformer: websockets });
  const client = new Socket(`ws+unix://${path}?token=abc`);
  cleanups.push(() => client.destroy());
  await once(client, 'open');
  client.write('hello happn');
  const [data, spark] = await first;
  expect(data).toBe('hello happn');
  expect(spark.query.token).toBe('abc');
}, 20000);
