import { EventEmitter } from 'node:events';
import type http from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { Primus } from '@primus/core';
import { memoryTransformer } from '@primus/transformer-test-suite';

// The tests need a transformer, not its framework.
const websockets = memoryTransformer();

// Code written for happn-primus 6.0.1 that runs unchanged; the deliberate differences are in
// docs/migrating-from-happn-primus.md.

describe('Primus.createSocket() as happn-primus took it', () => {
  it.each<unknown>([true, 1, 'yes'])('takes a truthy non-function `authorization` (%p) as the flag it is for the client', (authorization) => {
    const Socket = Primus.createSocket({ transformer: websockets, authorization } as never);
    const client = new Socket('http://127.0.0.1:1', { manual: true });
    expect(client.authorization).toBe(true);
    // With authorization the default reconnect strategy leaves out `timeout`, as in happn-primus.
    expect(client.options.strategy).toBe('disconnect,online');
  });

  it.each<unknown>([false, 0, '', null])('takes a falsy `authorization` (%p) as no authorization', (authorization) => {
    const Socket = Primus.createSocket({ transformer: websockets, authorization } as never);
    const client = new Socket('http://127.0.0.1:1', { manual: true });
    expect(client.authorization).toBe(false);
    expect(client.options.strategy).toBe('disconnect,online,timeout');
  });
});

describe('server options as happn-primus took them', () => {
  it('takes `authorization: false` as no authorization', () => {
    const primus = new Primus(new EventEmitter() as unknown as http.Server, { transformer: websockets, authorization: false });
    try {
      expect(new primus.Socket({ manual: true }).authorization).toBe(false);
    } finally {
      primus.destroy({ close: false });
    }
  });

  it('still refuses a truthy `authorization` that is not a function on a server, where it would authorize nothing', () => {
    expect(() => new Primus(new EventEmitter() as unknown as http.Server, { transformer: websockets, authorization: true as never })).toThrow(
      /option "authorization" must be a function/,
    );
  });
});
