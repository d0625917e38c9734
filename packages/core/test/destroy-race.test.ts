import { afterEach, expect, it } from '@jest/globals';
import { CLOSED, type Spark } from '@primus/core';
import { memoryTransformer, once, startServer, type TestServer } from '@primus/transformer-test-suite';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

it('ends a spark whose connection completes while the server is being destroyed', async () => {
  const server = await startServer({ transformer: memoryTransformer() });
  servers.push(server);
  const { primus } = server;
  let created: Spark | undefined;
  // Start the shutdown between the spark's creation and its announcement on the next tick.
  primus.Spark.prototype.initialise = function (this: Spark) {
    created = this;
    primus.destroy({ close: false });
  };
  let connections = 0;
  primus.on('connection', () => connections++);
  const client = server.client({ reconnect: { min: 1000 } });
  await once(client, 'reconnect scheduled');
  expect(created?.readyState).toBe(CLOSED);
  expect(connections).toBe(0);
  expect(primus.connected).toBe(0);
});
