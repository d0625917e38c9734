// The deployment of docs/operations.md, for real: nginx and HAProxy (the Debian packages, started
// here with the configurations in deploy/) in front of three Primus processes that form a cluster
// over a real redis-server. Every process serves the five transformers, each under its own
// pathname and in its own cluster.
//
// PRIMUS_DEPLOY_REPORT=<dir> writes what the failover took to <dir>/proxies.json.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Primus, type PrimusClient, type Transformer } from '@primus/core';
import browserchannel from '@primus/transformer-browserchannel';
import engineio from '@primus/transformer-engineio';
import socketio from '@primus/transformer-socketio';
import sockjs from '@primus/transformer-sockjs';
import websockets from '@primus/transformer-ws';
import { once, waitFor } from '@primus/transformer-test-suite';
import { cleanup, onCleanup, startFixture, startRedis, type FixtureProcess } from './helpers/processes';
import { DEPLOY_DIR, startProxy, type ProxyKind, type ProxyProcess } from './helpers/proxies';
import { report } from './helpers/report';

jest.setTimeout(60_000);

type Name = 'websockets' | 'engineio' | 'sockjs' | 'browserchannel' | 'socketio';

const TRANSFORMERS: Record<Name, Transformer> = { websockets, engineio, sockjs, browserchannel, socketio };
const Sockets = Object.fromEntries(Object.entries(TRANSFORMERS).map(([name, transformer]) => [name, Primus.createSocket({ transformer, pathname: `/${name}` })])) as Record<
  Name,
  ReturnType<typeof Primus.createSocket>
>;

/** Client options that keep each transformer on WebSocket only. */
const WEBSOCKET_ONLY: Partial<Record<Name, Record<string, unknown>>> = {
  websockets: {},
  engineio: { transports: ['websocket'] },
  sockjs: { transports: ['websocket'] },
  socketio: { transports: ['websocket'] },
};

/** Client options that keep each transformer off WebSockets: every request is plain HTTP. */
const POLLING_ONLY: Partial<Record<Name, Record<string, unknown>>> = {
  engineio: { transports: ['polling'] },
  sockjs: { transports: ['xhr-polling'] },
  browserchannel: {},
  socketio: { transports: ['xhr-polling'] },
};

interface Node extends FixtureProcess {
  id: string;
}

interface Deployment {
  nodes: Node[];
  proxy: ProxyProcess;
}

/** Redis, three Primus processes, and the proxy in front of them. */
async function startDeployment(kind: ProxyKind): Promise<Deployment> {
  const redis = await startRedis();
  const settings = { url: redis.url, prefix: `deploy-${randomUUID()}`, ttl: 2000, heartbeat: 400, timeout: 1000 };
  const nodes = await Promise.all(
    [1, 2, 3].map((n) =>
      startFixture('deploy-node', {
        PRIMUS_CLUSTER_OPTIONS: JSON.stringify({ ...settings, id: `node-${n}` }),
        // The proxy connects from 127.0.0.1; the clients below from other loopback addresses.
        PRIMUS_TRUSTED_PROXIES: JSON.stringify(['127.0.0.1']),
      }),
    ),
  );
  await waitFor(async () => (await Promise.all(nodes.map((node) => node.call<{ available: boolean }>('status')))).every((s) => s.available), 15_000, 'every node in its clusters');
  const proxy = await startProxy(
    kind,
    nodes.map((node) => node.port),
  );
  return { nodes, proxy };
}

/** A client through the proxy, with what it received and how often it (re)opened. */
interface Client {
  name: Name;
  socket: PrimusClient;
  received: unknown[];
  opens: number;
  /** When it last opened (Date.now()). */
  openedAt: number;
  /** Send `{ echo }` and resolve with the node that answered. */
  echo(): Promise<string>;
}

let echoes = 0;

async function connect(proxy: ProxyProcess, name: Name, transport: Record<string, unknown>, reconnect = false): Promise<Client> {
  const socket = new Sockets[name](proxy.url, {
    transport,
    reconnect: reconnect ? { min: 100, max: 400, retries: 50 } : { retries: 0 },
  }) as PrimusClient;
  socket.on('error', () => {});
  onCleanup(() => void socket.destroy());
  const client: Client = {
    name,
    socket,
    received: [],
    opens: 0,
    openedAt: 0,
    async echo() {
      const echo = ++echoes;
      const answer = waitFor(() => client.received.find((m): m is { echo: number; node: string } => (m as { echo?: number }).echo === echo), 10_000, `the echo of ${name}`);
      socket.write({ echo });
      // waitFor resolves only with a truthy value.
      return (await answer)!.node;
    },
  };
  socket.on('data', (data: unknown) => client.received.push(data));
  socket.on('open', () => {
    client.opens++;
    client.openedAt = Date.now();
  });
  await once(socket, 'open', 15_000);
  return client;
}

/** A WebSocket client (the websockets transformer) from a loopback address other than the proxy's. */
function fromAddress(proxy: ProxyProcess, address: string, headers: Record<string, string> = {}, reconnect = false): Promise<Client> {
  return connect(proxy, 'websockets', { localAddress: address, headers }, reconnect);
}

function nodeOf(nodes: Node[], id: string): Node {
  return nodes.find((node) => node.id === id)!;
}

function sum(counts: Record<string, number>, name: string): number {
  return counts[name] ?? 0;
}

describe.each(['nginx', 'haproxy'] as const)('behind %s', (kind) => {
  let deployment: Deployment;
  beforeAll(async () => {
    deployment = await startDeployment(kind);
  });
  afterAll(cleanup);

  it('passes WebSocket upgrades through to the servers, for every transformer that has WebSockets', async () => {
    const { nodes, proxy } = deployment;
    for (const [name, transport] of Object.entries(WEBSOCKET_ONLY) as Array<[Name, Record<string, unknown>]>) {
      const before = await Promise.all(nodes.map((node) => node.call<{ upgrades: Record<string, number> }>('traffic')));
      const client = await connect(proxy, name, transport);
      const at = await client.echo();
      const index = nodes.findIndex((node) => node.id === at);
      const after = await nodeOf(nodes, at).call<{ upgrades: Record<string, number> }>('traffic');
      expect(sum(after.upgrades, name)).toBe(sum(before[index]!.upgrades, name) + 1);
      // A broadcast from another server reaches it too.
      const other = nodes.find((node) => node.id !== at)!;
      await other.call('write', name, { news: name });
      await waitFor(() => client.received.some((m) => (m as { news?: string }).news === name), 5000, `the broadcast through ${kind} (${name})`);
      client.socket.end();
    }
  });

  it('keeps every request of a polling session on one server (sticky sessions)', async () => {
    const { nodes, proxy } = deployment;
    for (const [name, transport] of Object.entries(POLLING_ONLY) as Array<[Name, Record<string, unknown>]>) {
      const before = await Promise.all(nodes.map((node) => node.call<{ requests: Record<string, number>; upgrades: Record<string, number> }>('traffic')));
      const clients = await Promise.all([1, 2, 3].map(() => connect(proxy, name, transport)));
      // Round trips interleaved with broadcasts from every server: many polls and sends per session.
      const answered = new Set<string>();
      for (let round = 0; round < 4; round++) {
        for (const client of clients) answered.add(await client.echo());
        for (const node of nodes) await node.call('write', name, { round, from: node.id });
      }
      await waitFor(
        () => clients.every((c) => c.received.filter((m) => (m as { round?: number }).round === 3).length === nodes.length),
        10_000,
        `every broadcast at every ${name} client`,
      );

      // One address, one server: every request of every session went there, none anywhere else.
      expect(answered.size).toBe(1);
      const [home] = [...answered];
      const after = await Promise.all(nodes.map((node) => node.call<{ requests: Record<string, number>; upgrades: Record<string, number> }>('traffic')));
      nodes.forEach((node, i) => {
        const requests = sum(after[i]!.requests, name) - sum(before[i]!.requests, name);
        if (node.id === home) expect(requests).toBeGreaterThanOrEqual(clients.length * 8);
        else expect(requests).toBe(0);
        expect(sum(after[i]!.upgrades, name)).toBe(sum(before[i]!.upgrades, name));
      });
      const sparks = await nodeOf(nodes, home!).call<Array<{ id: string }>>('sparks', name);
      const ids = await Promise.all(clients.map((c) => new Promise<string>((resolve) => c.socket.id(resolve))));
      for (const id of ids) expect(sparks.map((s) => s.id)).toContain(id);
      // No session broke and started again.
      for (const client of clients) expect(client.opens).toBe(1);
      for (const client of clients) client.socket.end();
    }
  });

  it('gives each spark the address of its client, not the proxy, and ignores what a client claims', async () => {
    const { nodes, proxy } = deployment;
    const address = '127.0.0.2';
    // A client that claims another address in its own X-Forwarded-For.
    const client = await fromAddress(proxy, address, { 'x-forwarded-for': '203.0.113.9' });
    const at = await client.echo();
    const id = await new Promise<string>((resolve) => client.socket.id(resolve));
    const spark = (await nodeOf(nodes, at).call<Array<{ id: string; ip: string; peer: string }>>('sparks', 'websockets')).find((s) => s.id === id);
    expect(spark).toEqual({ id, ip: address, peer: '127.0.0.1' });

    // Over polling too, where each request carries the headers again.
    const agent = new http.Agent({ localAddress: '127.0.0.3', keepAlive: true });
    onCleanup(() => agent.destroy());
    const polling = await connect(proxy, 'engineio', { transports: ['polling'], agent, extraHeaders: { 'x-forwarded-for': '203.0.113.9' } });
    const pollingAt = await polling.echo();
    const pollingId = await new Promise<string>((resolve) => polling.socket.id(resolve));
    const pollingSpark = (await nodeOf(nodes, pollingAt).call<Array<{ id: string; ip: string; peer: string }>>('sparks', 'engineio')).find((s) => s.id === pollingId);
    expect(pollingSpark).toEqual({ id: pollingId, ip: '127.0.0.3', peer: '127.0.0.1' });
  });

  it('moves the clients of a server killed with SIGKILL to the others, where they receive broadcasts again', async () => {
    const { nodes, proxy } = deployment;
    // The polling clients all come from 127.0.0.1, so they share one server: that one dies.
    const polling = await Promise.all((Object.entries(POLLING_ONLY) as Array<[Name, Record<string, unknown>]>).map(([name, transport]) => connect(proxy, name, transport, true)));
    const pollingHomes = await Promise.all(polling.map((c) => c.echo()));
    expect(new Set(pollingHomes).size).toBe(1);
    const victim = pollingHomes[0]!;
    // WebSocket clients from other addresses, until every server holds a few of them.
    const spread: Client[] = [];
    const spreadHomes: string[] = [];
    const fewest = (): number => Math.min(...nodes.map((node) => spreadHomes.filter((home) => home === node.id).length));
    for (let i = 10; fewest() < 2 && i < 100; i++) {
      const client = await fromAddress(proxy, `127.0.0.${i}`, {}, true);
      spread.push(client);
      spreadHomes.push(await client.echo());
    }
    expect(fewest()).toBeGreaterThanOrEqual(2);

    const clients = [...polling, ...spread];
    const homes = [...pollingHomes, ...spreadHomes];
    const moved = clients.filter((_, i) => homes[i] === victim);
    const stayed = clients.filter((_, i) => homes[i] !== victim);
    const killed = Date.now();
    await nodeOf(nodes, victim).kill();

    await waitFor(() => moved.every((c) => c.opens >= 2), 20_000, 'the clients of the dead server to reconnect through the proxy');
    const back = Math.max(...moved.map((c) => c.openedAt)) - killed;
    for (const client of moved) expect(await client.echo()).not.toBe(victim);
    for (const client of stayed) expect(client.opens).toBe(1);

    // Broadcasts reach everyone again, from any server still alive.
    const alive = nodes.filter((node) => node.id !== victim);
    for (const node of alive) {
      for (const name of Object.keys(TRANSFORMERS)) await node.call('write', name, { after: node.id });
    }
    await waitFor(
      () => clients.every((c) => alive.every((node) => c.received.some((m) => (m as { after?: string }).after === node.id))),
      10_000,
      'the broadcasts after the failover at every client',
    );
    report(`failover behind ${kind}`, { clients: clients.length, moved: moved.length, lastReconnectedMs: back });
  });
});

describe('the documentation', () => {
  it('shows the configurations these tests run, word for word', () => {
    const root = path.resolve(__dirname, '../../..');
    for (const doc of ['docs/operations.md', 'packages/redis/README.md']) {
      const text = readFileSync(path.join(root, doc), 'utf8');
      for (const file of ['nginx.conf', 'haproxy.cfg']) {
        expect({ doc, file, shown: text.includes(readFileSync(path.join(DEPLOY_DIR, file), 'utf8').trimEnd()) }).toEqual({ doc, file, shown: true });
      }
    }
  });
});
