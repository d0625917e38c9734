import { afterEach, describe, expect, it } from '@jest/globals';
import { compile, ParserError, Primus, PrimusClient, PrimusError, websocketTransport } from '@primus/client';
import { json } from '@primus/parser-json';

// The errors the client throws or emits on its own, each with the code docs/errors.md lists.

const created: PrimusClient[] = [];
afterEach(() => {
  for (const client of created.splice(0)) client.destroy();
});

/** A client whose WebSocket transport opens stand-in sockets; `socket()` is the last one opened. */
function clientOverFakeSocket(): { client: PrimusClient; socket: () => { onerror: ((ev: unknown) => void) | null } } {
  let last: { onerror: ((ev: unknown) => void) | null } | undefined;
  const factory = () => {
    const socket = { readyState: 0, binaryType: '', onopen: null, onclose: null, onerror: null, onmessage: null, send() {}, close() {} };
    last = socket;
    return socket;
  };
  const Client = compile({ transport: websocketTransport(factory), parser: json });
  const client = new Client('http://127.0.0.1:9', { manual: true, strategy: false });
  created.push(client);
  return { client, socket: () => last! };
}

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
      expect((err as Error).message).toContain('no global WebSocket');
    } finally {
      if (saved !== undefined) global.WebSocket = saved;
    }
  });

  it("PRIMUS_ERR_CONNECTION: a browser WebSocket's error event, which says nothing, is the cause", () => {
    const { client, socket } = clientOverFakeSocket();
    const seen: { raw?: unknown; error?: unknown } = {};
    client.on('incoming::error', (raw) => (seen.raw = raw));
    client.on('error', (err) => (seen.error = err));
    client.open();
    // What a browser's socket reports: an Event without a message or an Error.
    const event = { type: 'error' };
    socket().onerror!(event);
    expect(seen.raw).toBe(event);
    expect(seen.error).toBeInstanceOf(PrimusError);
    expect(seen.error).toMatchObject({ code: 'PRIMUS_ERR_CONNECTION', message: 'Connection error', cause: event });
  });

  it('PRIMUS_ERR_CONNECTION: a socket that reports its failure without an event', () => {
    const { client, socket } = clientOverFakeSocket();
    let error: unknown;
    client.on('error', (err) => (error = err));
    client.open();
    socket().onerror!(undefined);
    expect(error).toMatchObject({ code: 'PRIMUS_ERR_CONNECTION', message: 'Connection error' });
  });

  it("PRIMUS_ERR_CONNECTION: ws's error event gives its Error, which becomes the cause", () => {
    const { client, socket } = clientOverFakeSocket();
    let error: unknown;
    client.on('error', (err) => (error = err));
    client.open();
    const failure = new Error('Unexpected server response: 502');
    socket().onerror!({ type: 'error', error: failure, message: failure.message });
    expect(error).toMatchObject({ code: 'PRIMUS_ERR_CONNECTION', message: 'Unexpected server response: 502', cause: failure });
  });

  it('PRIMUS_ERR_CONTEXT: a method called without its client as `this`', () => {
    const client = new Primus('http://127.0.0.1:9', { manual: true });
    created.push(client);
    const write = client.write;
    let error: unknown;
    try {
      write.call({} as never, 'x');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PrimusError);
    expect(error).toMatchObject({ code: 'PRIMUS_ERR_CONTEXT', message: "Primus#write's context should be called with a Primus instance" });
  });

  it('PRIMUS_ERR_INVALID_OPTION: an url the client cannot parse, and a ws+unix: url without a socket', () => {
    for (const url of ['http://[not-ipv6', 'ws+unix://']) {
      let error: unknown;
      try {
        created.push(new Primus(url, { manual: true }));
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toMatchObject({ code: 'PRIMUS_ERR_INVALID_OPTION' });
    }
  });

  it('PRIMUS_ERR_INVALID_OPTION: bad client options name the option and the value', () => {
    expect(() => new Primus('http://127.0.0.1:9', { manual: true, strategy: 'reboot' })).toThrow(
      expect.objectContaining({ code: 'PRIMUS_ERR_INVALID_OPTION', message: 'Primus: options.strategy must be disconnect, online or timeout, got "reboot"' }),
    );
    expect(() => new Primus('http://127.0.0.1:9', { manual: true, timeout: -5 })).toThrow(
      expect.objectContaining({ code: 'PRIMUS_ERR_INVALID_OPTION', message: 'Primus: options.timeout must be a non-negative number or false, got -5' }),
    );
  });

  it('PRIMUS_ERR_INVALID_TRANSFORMER and PRIMUS_ERR_INVALID_PARSER: compile() without a transport or a parser', () => {
    expect(() => compile({ transport: {} as never, parser: json })).toThrow(expect.objectContaining({ name: 'PrimusError', code: 'PRIMUS_ERR_INVALID_TRANSFORMER' }));
    expect(() => compile({ transport: websocketTransport(), parser: {} as never })).toThrow(expect.objectContaining({ name: 'PrimusError', code: 'PRIMUS_ERR_INVALID_PARSER' }));
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
