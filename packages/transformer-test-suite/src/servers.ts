import type { RequestListener } from 'node:http';
import { afterEach } from '@jest/globals';
import type { PrimusOptions, Transformer } from '@primus/core';
import { startServer, type TestServer } from './harness';

/**
 * Servers for one test file: `start(options, handler?)` runs a server of `transformer` on a random
 * port of 127.0.0.1 (`handler` answers requests outside the pathname), and every server a test
 * started is closed after it.
 */
export function useServers(transformer: Transformer): (options?: PrimusOptions, handler?: RequestListener) => Promise<TestServer> {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  return async (options = {}, handler) => {
    const server = await startServer({ transformer, ...options }, 0, '127.0.0.1', handler);
    servers.push(server);
    return server;
  };
}
