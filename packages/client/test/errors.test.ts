import { afterEach, describe, expect, it } from '@jest/globals';
import { ParserError, Primus, PrimusClient, PrimusError } from '@primus/client';

// The errors the client throws or emits on its own, each with the code docs/errors.md lists.

const created: PrimusClient[] = [];
afterEach(() => {
  for (const client of created.splice(0)) client.destroy();
});

describe('client errors carry codes', () => {
  it('PRIMUS_ERR_NOT_COMPILED: a PrimusClient constructed directly', () => {
    let error: unknown;
    try {
      new PrimusClient();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PrimusError);
    expect(error).toMatchObject({ name: 'PrimusError', code: 'PRIMUS_ERR_NOT_COMPILED' });
    expect((error as Error).message).toContain('has not been compiled');
  });

  it('PRIMUS_ERR_CLIENT_DESTROYED: open() after destroy()', () => {
    const client = new Primus('http://127.0.0.1:9', { manual: true });
    client.destroy();
    let error: unknown;
    try {
      client.open();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PrimusError);
    expect(error).toMatchObject({ code: 'PRIMUS_ERR_CLIENT_DESTROYED' });
  });

  it('PRIMUS_ERR_NO_WEBSOCKET: the ready client in a runtime without a global WebSocket', async () => {
    const global = globalThis as { WebSocket?: unknown };
    const saved = global.WebSocket;
    delete global.WebSocket;
    try {
      const client = new Primus('http://127.0.0.1:9', { manual: true, strategy: false });
      created.push(client);
      const error = new Promise<unknown>((resolve) => client.once('error', resolve));
      client.open();
      const err = await error;
      expect(err).toBeInstanceOf(PrimusError);
      expect(err).toMatchObject({ code: 'PRIMUS_ERR_NO_WEBSOCKET' });
      expect((err as Error).message).toContain('no WebSocket implementation found');
    } finally {
      if (saved !== undefined) global.WebSocket = saved;
    }
  });

  it('ParserError is a PrimusError with a parser code and a cause', () => {
    const cause = new SyntaxError('bad');
    const err = new ParserError('PRIMUS_ERR_PARSER_DECODE', 'Failed to decode incoming data: bad', { cause });
    expect(err).toBeInstanceOf(PrimusError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'ParserError', code: 'PRIMUS_ERR_PARSER_DECODE' });
    expect(err.cause).toBe(cause);
  });
});
