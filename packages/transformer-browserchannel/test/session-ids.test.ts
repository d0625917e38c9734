import { describe, expect, it } from '@jest/globals';
import { once, useServers, waitFor } from '@primus/transformer-test-suite';
import browserchannel from '../src';
import { rememberedSessionIds } from '../src/browserchannel-server';

// browserchannel's own id generator (`hat.rack`) keeps every session id it ever handed out; a
// server that has seen millions of sessions holds millions of dead ids. The transformer makes it
// forget each one when its session closes.

const start = useServers(browserchannel);

describe('browserchannel: session ids', () => {
  it('forgets the id of every closed session', async () => {
    const server = await start();
    let ended = 0;
    server.primus.on('disconnection', () => ended++);
    for (let i = 0; i < 10; i++) {
      const client = server.client({ strategy: false });
      await once(client, 'open');
      client.end();
    }
    await waitFor(() => ended === 10, 20000, 'ten sessions to close on the server');
    expect(rememberedSessionIds()).toBe(0);
  }, 30000);

  it('remembers the ids of open sessions, so no new session can take one', async () => {
    const server = await start();
    const clients = [server.client(), server.client()];
    await Promise.all(clients.map((client) => once(client, 'open')));
    expect(rememberedSessionIds()).toBe(2);
  }, 30000);
});
