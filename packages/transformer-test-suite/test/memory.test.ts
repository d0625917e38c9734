import { afterEach, describe, expect, it } from '@jest/globals';
import type { Spark } from '@primus/core';
import { collect, memoryTransformer, nextSpark, once, startServer, type TestServer } from '@primus/transformer-test-suite';

const memory = memoryTransformer();
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const server = await startServer({ transformer: memory, ...options });
  servers.push(server);
  return server;
}

describe('memoryTransformer()', () => {
  it('connects a client to the server of its port and echoes, in order', async () => {
    const server = await start();
    server.primus.on('connection', (spark: Spark) => spark.on('data', (data: unknown) => spark.write(data)));
    const client = server.client({ query: 'room=lobby' });
    const spark = nextSpark(server.primus);
    for (let i = 0; i < 5; i++) client.write({ n: i });
    expect(await collect(client, 'data', 5)).toEqual([0, 1, 2, 3, 4].map((n) => ({ n })));
    expect((await spark).query.room).toBe('lobby');
    expect(server.primus.spec.transformer).toBe('memory');
  });

  it('ends the spark when the client ends, and the client when the spark ends', async () => {
    const server = await start();
    const first = nextSpark(server.primus);
    const client = server.client();
    const spark = await first;
    await once(client, 'open');
    const ended = once(spark, 'end');
    client.end();
    await ended;
    expect(server.primus.connected).toBe(0);

    const second = nextSpark(server.primus);
    const other = server.client();
    const bye = once(other, 'data');
    const gone = once(other, 'end');
    (await second).end('bye');
    expect((await bye)[0]).toBe('bye');
    await gone;
  });

  it('keeps two servers of one double apart', async () => {
    const [a, b] = [await start(), await start()];
    const atB = nextSpark(b.primus);
    b.client();
    await atB;
    expect([a.primus.connected, b.primus.connected]).toEqual([0, 1]);
  });

  it('refuses a port without a server of the double, as TCP would', async () => {
    const server = await start();
    const port = server.port;
    await server.close();
    servers.splice(0);
    const again = await start();
    const client = again.client({ url: `http://127.0.0.1:${port}`, strategy: false }, { errors: 'expected' });
    const [err] = await once<[Error & { code?: string }]>(client, 'error');
    expect(err.code).toBe('ECONNREFUSED');
  });
});
