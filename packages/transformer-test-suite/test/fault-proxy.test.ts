import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { once, startFaultProxy, waitFor, type FaultProxy } from '@primus/transformer-test-suite';

/** A TCP echo server that tracks its sockets, so a test can see the upstream side of the proxy. */
async function echoServer(): Promise<{ server: net.Server; port: number; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

async function connect(port: number): Promise<net.Socket & { received: Buffer[] }> {
  const socket = net.connect(port, '127.0.0.1') as net.Socket & { received: Buffer[] };
  socket.received = [];
  socket.on('data', (chunk: Buffer) => socket.received.push(chunk));
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

const text = (socket: { received: Buffer[] }): string => Buffer.concat(socket.received).toString();

describe('fault proxy', () => {
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let proxy: FaultProxy;
  const sockets: net.Socket[] = [];

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await proxy?.close();
    for (const socket of echo?.sockets ?? []) socket.destroy();
    await new Promise((resolve) => echo?.server.close(resolve));
  });

  it('forwards bytes both ways in pass mode, in order', async () => {
    echo = await echoServer();
    proxy = await startFaultProxy(echo.port);
    const socket = await connect(proxy.port);
    sockets.push(socket);
    const payload = Array.from({ length: 2000 }, (_, i) => `${i},`).join('');
    socket.write(payload);
    await waitFor(() => text(socket).length === payload.length, 5000, 'the echo');
    expect(text(socket)).toBe(payload);
  });

  it('keeps the order of chunks under one-way delay and throttling', async () => {
    echo = await echoServer();
    proxy = await startFaultProxy(echo.port);
    proxy.delay('up', 150);
    proxy.throttle('down', 20_000);
    const socket = await connect(proxy.port);
    sockets.push(socket);
    const started = Date.now();
    const payload = 'x'.repeat(10_000) + 'end';
    for (let i = 0; i < payload.length; i += 1000) socket.write(payload.slice(i, i + 1000));
    await waitFor(() => text(socket).length === payload.length, 10_000, 'the delayed echo');
    expect(text(socket)).toBe(payload);
    // 150 ms of latency plus 10 kB at 20 kB/s: at least 0.5 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('cut closes both sides', async () => {
    echo = await echoServer();
    proxy = await startFaultProxy(echo.port);
    const socket = await connect(proxy.port);
    sockets.push(socket);
    await waitFor(() => echo.sockets.size === 1, 5000, 'the upstream connection');
    const closed = once(socket, 'close');
    proxy.setMode('cut');
    await closed;
    await waitFor(() => echo.sockets.size === 0, 5000, 'the upstream side to close');
    expect(proxy.connections).toBe(0);
  });

  it('blackhole holds the connection open and forwards nothing until healed', async () => {
    echo = await echoServer();
    proxy = await startFaultProxy(echo.port);
    const socket = await connect(proxy.port);
    sockets.push(socket);
    await waitFor(() => echo.sockets.size === 1, 5000, 'the upstream connection');
    proxy.setMode('blackhole');
    socket.write('held');
    // Letting time pass is the point: nothing may arrive, and nothing may close, while it lasts.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(text(socket)).toBe('');
    expect(socket.destroyed).toBe(false);
    expect(echo.sockets.size).toBe(1);
    proxy.setMode('pass');
    await waitFor(() => text(socket) === 'held', 5000, 'the held bytes');
  });

  it('cork holds one direction only', async () => {
    echo = await echoServer();
    proxy = await startFaultProxy(echo.port);
    const socket = await connect(proxy.port);
    sockets.push(socket);
    await waitFor(() => echo.sockets.size === 1, 5000, 'the upstream connection');
    const [upstream] = echo.sockets;
    let reachedServer = '';
    upstream!.on('data', (chunk: Buffer) => (reachedServer += chunk.toString()));
    proxy.cork('down');
    socket.write('ping');
    await waitFor(() => reachedServer === 'ping', 5000, 'the up direction');
    // The echo is in flight toward a corked lane; give it time to (wrongly) arrive.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(text(socket)).toBe('');
    proxy.uncork('down');
    await waitFor(() => text(socket) === 'ping', 5000, 'the corked echo');
  });
});
