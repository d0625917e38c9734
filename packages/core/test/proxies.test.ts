import { afterEach, describe, expect, it } from '@jest/globals';
import type { Address, PrimusRequest } from '@primus/core';
import { request } from '@primus/transformer-test-suite';
import { cleanup, connectRaw, detached, start } from './helpers';

afterEach(cleanup);

// Every connection in these tests comes from 127.0.0.1: the direct peer is the test itself, and
// the headers say what proxies in front of it would have added.

/** The address a spark gets for a WebSocket connection carrying `headers`. */
async function sparkAddress(options: Parameters<typeof start>[0], headers: Record<string, string>): Promise<Address> {
  const server = await start(options);
  const client = await connectRaw(server, '', headers);
  return client.spark.address;
}

describe('trustedProxies: CIDR ranges', () => {
  it('accepts ranges and takes the right-most hop outside them', async () => {
    const address = await sparkAddress({ trustedProxies: ['127.0.0.0/8', '10.0.0.0/8'] }, { 'X-Forwarded-For': '6.6.6.6, 13.3.37.1, 10.1.2.3' });
    expect(address.ip).toBe('13.3.37.1');
  });

  it('accepts IPv6 ranges for the hops', async () => {
    const address = await sparkAddress({ trustedProxies: ['127.0.0.1', 'fd00::/8'] }, { 'X-Forwarded-For': '2001:db8::5, fd00::7' });
    expect(address.ip).toBe('2001:db8::5');
  });

  it("accepts proxy-addr's names, such as loopback", async () => {
    const address = await sparkAddress({ trustedProxies: ['loopback'] }, { 'X-Forwarded-For': '203.0.113.9' });
    expect(address.ip).toBe('203.0.113.9');
  });

  it('ignores the headers when the direct peer is outside every range', async () => {
    const server = await start({ trustedProxies: ['10.0.0.0/8'] });
    const client = await connectRaw(server, '', { 'X-Forwarded-For': '13.3.37.1' });
    expect(client.spark.address.ip).toBe('127.0.0.1');
    expect(client.spark.address.port).toBe((client.ws as unknown as { _socket: { localPort: number } })._socket.localPort);
  });

  it('still takes exact addresses', async () => {
    const address = await sparkAddress({ trustedProxies: ['127.0.0.1'] }, { 'X-Forwarded-For': '6.6.6.6, 13.3.37.1' });
    expect(address.ip).toBe('13.3.37.1');
  });

  it.each([
    ['a range with a bad prefix', ['10.0.0.0/33']],
    ['a host name', ['proxy.internal']],
    ['a number', [42]],
    ['a string instead of an array', '127.0.0.1'],
  ])('throws at construction for %s, naming trustedProxies', (_what, value) => {
    let error: (TypeError & { code?: string }) | undefined;
    try {
      detached({ trustedProxies: value as string[] });
    } catch (err) {
      error = err as TypeError & { code?: string };
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(error!.code).toBe('PRIMUS_ERR_INVALID_OPTION');
    expect(error!.message).toMatch(/option "trustedProxies" must be an array of IP addresses or CIDR ranges/);
  });
});

describe('the Forwarded header (RFC 7239)', () => {
  it('gives the address, port and protocol of the first element by default', async () => {
    const address = await sparkAddress({}, { Forwarded: 'for="192.0.2.60:4711";proto=https;by=203.0.113.43, for=10.0.0.5' });
    expect(address).toEqual({ ip: '192.0.2.60', port: 4711, secure: true });
  });

  it('reads quoted IPv6 addresses with a port', async () => {
    const address = await sparkAddress({}, { Forwarded: 'for="[2001:db8:cafe::17]:4711"' });
    expect(address).toMatchObject({ ip: '2001:db8:cafe::17', port: 4711 });
  });

  it('with trustedProxies, takes the right-most element outside them', async () => {
    const address = await sparkAddress(
      { trustedProxies: ['loopback', '10.0.0.0/8'] },
      { Forwarded: 'for=6.6.6.6;proto=http, for=198.51.100.17;proto=https, for=10.0.0.5;proto=http' },
    );
    expect(address).toMatchObject({ ip: '198.51.100.17', secure: true });
  });

  it('falls back to the direct peer for a malformed header or an obfuscated node', async () => {
    expect((await sparkAddress({}, { Forwarded: 'for=192.0.2.60;;;=' })).ip).toBe('127.0.0.1');
    expect((await sparkAddress({}, { Forwarded: 'for=_hidden' })).ip).toBe('127.0.0.1');
  });

  it('is what req.forwarded holds in middleware and the authorization hook', async () => {
    let seen: Address | undefined;
    const server = await start({
      trustedProxies: ['127.0.0.1'],
      authorization(req: PrimusRequest, done) {
        seen = req.forwarded;
        done();
      },
    });
    // The spec layer answers before the authorization hook; a plain request under the pathname reaches it.
    await request(`${server.url}/primus/`, { headers: { Forwarded: 'for=192.0.2.60;proto=https' } });
    expect(seen).toMatchObject({ ip: '192.0.2.60', secure: true });
  });
});

describe('X-Forwarded-For entries with a port', () => {
  it('reads ip:port, taking the port from the entry', async () => {
    const address = await sparkAddress({}, { 'X-Forwarded-For': '203.0.113.9:41234, 10.0.0.5' });
    expect(address).toMatchObject({ ip: '203.0.113.9', port: 41234 });
  });

  it('reads [ipv6]:port', async () => {
    const address = await sparkAddress({}, { 'X-Forwarded-For': '[2001:db8::1]:4711' });
    expect(address).toMatchObject({ ip: '2001:db8::1', port: 4711 });
  });

  it('reads ip:port hops behind trusted proxies', async () => {
    const address = await sparkAddress({ trustedProxies: ['127.0.0.1', '10.0.0.0/8'] }, { 'X-Forwarded-For': '6.6.6.6:1, 203.0.113.9:41234, 10.0.0.5:80' });
    expect(address).toMatchObject({ ip: '203.0.113.9', port: 41234 });
  });
});
