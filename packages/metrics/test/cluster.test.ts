import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { redisCluster, type RedisCluster } from '@primus/redis';
import { waitFor } from '@primus/transformer-test-suite';
import { Registry } from 'prom-client';
import { metrics } from '../src/index';
import { cleanup as redisCleanup, connect, startRedis } from '../../redis/test/helpers/processes';
import { cleanup, scrape, start } from './helpers';

jest.setTimeout(30_000);
afterEach(async () => {
  await cleanup();
  await redisCleanup();
});

const PATH = '/primus/metrics';
const ws = { transformer: 'websockets' };

describe('@primus/metrics with @primus/redis', () => {
  it('reports the cluster: up, broadcasts published and received, send durations by outcome', async () => {
    const redis = await startRedis();
    const settings = { url: redis.url, prefix: `metrics-${randomUUID()}`, ttl: 2000, heartbeat: 300, timeout: 1000 };
    // The plugins in both orders: the metrics plugin finds the cluster either way.
    const a = await start({ plugin: { metrics: metrics({ registry: new Registry(), path: PATH }), cluster: redisCluster(settings) } });
    const b = await start({ plugin: { cluster: redisCluster(settings), metrics: metrics({ registry: new Registry(), path: PATH }) } });
    const clusterA = a.primus.cluster as RedisCluster;
    const clusterB = b.primus.cluster as RedisCluster;
    await Promise.all([clusterA.ready(5000), clusterB.ready(5000)]);
    const onB = await connect(b.url);
    await waitFor(async () => (await clusterA.spark(onB.sparkId)) === clusterB.id, 5000, 'the spark in the registry');

    a.primus.write('to everyone');
    await clusterA.broadcast('again');
    await expect(clusterA.send(onB.sparkId, 'to one')).resolves.toBe(true);
    await expect(clusterA.send('nobody', 'to none')).resolves.toBe(false);
    await waitFor(() => onB.received.length === 3, 5000, 'the messages');

    const mA = await scrape(a.url + PATH);
    const mB = await scrape(b.url + PATH);
    expect(mA.value('primus_cluster_up', ws)).toBe(1);
    expect(mB.value('primus_cluster_up', ws)).toBe(1);
    expect(mA.value('primus_cluster_broadcasts_published_total', ws)).toBe(2);
    expect(mB.value('primus_cluster_broadcasts_received_total', ws)).toBe(2);
    expect(mA.value('primus_cluster_broadcasts_received_total', ws)).toBe(0);
    expect(mA.value('primus_cluster_send_duration_seconds_count', { transformer: 'websockets', outcome: 'delivered' })).toBe(1);
    expect(mA.value('primus_cluster_send_duration_seconds_count', { transformer: 'websockets', outcome: 'not-found' })).toBe(1);
    expect(mA.value('primus_cluster_send_duration_seconds_bucket', { transformer: 'websockets', outcome: 'delivered', le: '+Inf' })).toBe(1);
    expect(mA.value('primus_cluster_send_duration_seconds_sum', { transformer: 'websockets', outcome: 'delivered' })).toBeGreaterThan(0);

    await redis.kill();
    await waitFor(() => !clusterA.available, 5000, 'the cluster to notice');
    expect((await scrape(a.url + PATH)).value('primus_cluster_up', ws)).toBe(0);
  });

  it('has no cluster samples on a server without the cluster', async () => {
    const server = await start({ plugin: { metrics: metrics({ registry: new Registry(), path: PATH }) } });
    const m = await scrape(server.url + PATH);
    expect(m.types.primus_cluster_up).toBe('gauge');
    expect(m.samples.filter((s) => s.name.startsWith('primus_cluster_'))).toEqual([]);
  });
});
