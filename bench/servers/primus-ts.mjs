// @primus/core with the transformer whose built package directory is given as --transformer;
// `--metrics true` adds the @primus/metrics plugin, serving its endpoint as a scraped server would;
// `--recovery true` turns connection-state recovery on.
import http from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Primus } from '@primus/core';
import { arg, busyWait, listen, serve } from './common.mjs';

serve(async () => {
  const dir = arg('transformer');
  if (!dir) throw new Error('--transformer <package directory> is required');
  const mod = await import(pathToFileURL(join(dir, 'dist/index.js')).href);
  const server = http.createServer();
  const plugin = {};
  if (arg('metrics', 'false') === 'true') {
    const { metrics } = await import('@primus/metrics');
    plugin.metrics = metrics({ path: '/primus/metrics' });
  }
  const primus = new Primus(server, {
    transformer: mod.default ?? mod,
    keepRequest: arg('keep-request', 'true') !== 'false',
    plugin,
    recovery: arg('recovery', 'false') === 'true',
  });
  const busy = busyWait();
  primus.on('connection', (spark) => {
    if (busy) {
      spark.on('data', (data) => {
        busy();
        spark.write(data);
      });
      return;
    }
    spark.on('data', (data) => spark.write(data));
  });
  return {
    port: await listen(server),
    broadcast: (message) => primus.write(message),
  };
});
