// Swapping frameworks is one dependency and one option: the same application code runs unchanged
// over every transformer, chosen by name.
import { afterEach, describe, expect, it } from '@jest/globals';
import type { PrimusClient } from '@primus/client';
import type { Primus, Spark } from '@primus/core';
import { once, startServer, waitFor, type TestServer } from '@primus/transformer-test-suite';

interface Message {
  type: 'count' | 'chat';
  count?: number;
  text?: string;
}

/** The application: a chat room that relays every message and tells everyone how many are here. */
function chatApp(primus: Primus): void {
  primus.on('connection', (spark: Spark) => {
    primus.write({ type: 'count', count: primus.connected });
    spark.on('data', (message: { text?: unknown }) => {
      if (typeof message?.text === 'string') primus.write({ type: 'chat', text: message.text });
    });
  });
  primus.on('disconnection', () => primus.write({ type: 'count', count: primus.connected }));
}

/** Resolve with the first message of `type` that `client` receives from now on. */
function next(client: PrimusClient, type: Message['type'], test: (m: Message) => boolean = () => true): Promise<Message> {
  return new Promise((resolve) => {
    const listener = (message: Message): void => {
      if (message.type !== type || !test(message)) return;
      client.off('data', listener);
      resolve(message);
    };
    client.on('data', listener);
  });
}

const transformers = ['websockets', 'engine.io', 'sockjs', 'faye', 'browserchannel', 'socket.io', 'lws'];
const servers: TestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('the same application over every transformer', () => {
  it.each(transformers)(
    '%s',
    async (transformer) => {
      const server = await startServer({ transformer });
      servers.push(server);
      chatApp(server.primus);
      expect(server.primus.spec.transformer).toBe(transformer);

      const alice = server.client();
      await once(alice, 'open');
      const bob = server.client();
      const counted = next(alice, 'count', (m) => m.count === 2);
      await once(bob, 'open');
      await counted;

      const relayed = Promise.all([next(alice, 'chat'), next(bob, 'chat')]);
      alice.write({ text: `hello over ${transformer}` });
      for (const message of await relayed) expect(message.text).toBe(`hello over ${transformer}`);

      const left = next(alice, 'count', (m) => m.count === 1);
      bob.end();
      await left;
      await waitFor(() => server.primus.connected === 1, 10000, 'one spark left');
    },
    30000,
  );
});
