import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { ClientOptions, ClientPlugin, Packet, PrimusClient, ReconnectAttempt, TransformNext } from '@primus/client';
import { PrimusError } from '@primus/client';
import { memoryPrimus, record, type MemoryTransport } from './memory-transport';

// A plugin's own option, declared the way the client README documents.
declare module '@primus/client' {
  interface ClientOptions {
    /** Read by the plugin in 'runs plugins at construction'. */
    pluginTestOption?: string;
  }
}

const OPENING = 1;
const CLOSED = 2;
const OPEN = 3;

const created: PrimusClient[] = [];

interface Setup {
  client: PrimusClient;
  transport: MemoryTransport;
}

/** A client over the in-memory transport; not connected until the 0 ms open timer runs. */
function setup(options: ClientOptions = {}, config: Parameters<typeof memoryPrimus>[0] = {}): Setup {
  const { Primus, transport } = memoryPrimus(config);
  const client = new Primus('http://localhost:8080', options);
  created.push(client);
  return { client, transport };
}

/** A client whose first connection has opened. */
function connected(options: ClientOptions = {}, config: Parameters<typeof memoryPrimus>[0] = {}): Setup {
  const result = setup(options, config);
  jest.advanceTimersByTime(0);
  result.transport.last.accept();
  expect(result.client.readyState).toBe(OPEN);
  return result;
}

beforeEach(() => {
  jest.useFakeTimers();
  jest.spyOn(Math, 'random').mockReturnValue(0);
});

afterEach(() => {
  for (const client of created.splice(0)) client.destroy();
  jest.useRealTimers();
  jest.restoreAllMocks();
});

describe('opening and ending', () => {
  it('goes CLOSED -> OPENING -> OPEN -> CLOSED with exactly three readyStateChange events', () => {
    const { client, transport } = setup();
    const states = record(client, ['readyStateChange']);
    expect(client.readyState).toBe(CLOSED);

    jest.advanceTimersByTime(0);
    expect(client.readyState).toBe(OPENING);
    transport.last.accept();
    expect(client.readyState).toBe(OPEN);
    client.end();
    expect(client.readyState).toBe(CLOSED);

    expect(states).toEqual(['readyStateChange:opening', 'readyStateChange:open', 'readyStateChange:end']);
  });

  it('connects on its own on the next tick, but not with manual:true', () => {
    const auto = setup();
    expect(auto.transport.connections).toHaveLength(0);
    jest.advanceTimersByTime(0);
    expect(auto.transport.connections).toHaveLength(1);

    const manual = setup({ manual: true });
    jest.advanceTimersByTime(60000);
    expect(manual.transport.connections).toHaveLength(0);
    expect(manual.client.readyState).toBe(CLOSED);
    manual.client.open();
    expect(manual.transport.connections).toHaveLength(1);
  });

  it('never connects when end() is called right after construction, and emits end once', () => {
    const { client, transport } = setup();
    const end = jest.fn();
    client.on('end', end);
    client.end();
    jest.advanceTimersByTime(60000);
    expect(transport.connections).toHaveLength(0);
    expect(end).toHaveBeenCalledTimes(1);
  });

  it('emits end once however often end() is called', () => {
    const { client } = connected();
    const events = record(client, ['end', 'close', 'outgoing::end']);
    for (let i = 0; i < 6; i++) client.end();
    expect(events).toEqual(['outgoing::end', 'close', 'end']);
  });

  it('closes the connection on end() and sends data given to end() first', () => {
    const { client, transport } = connected();
    const connection = transport.last;
    expect(client.socket).toBe(connection.socket);
    client.end({ bye: true });
    expect(connection.messages).toEqual([{ bye: true }]);
    expect(connection.closed).toBe(true);
    expect(client.socket).toBeNull();
  });

  it('reopens with open() after end(), flipping readable and writable back', () => {
    const { client, transport } = connected();
    expect([client.readable, client.writable]).toEqual([true, true]);
    client.end();
    expect([client.readable, client.writable]).toEqual([false, false]);

    const open = jest.fn();
    client.on('open', open);
    client.open();
    transport.last.accept();
    expect(transport.connections).toHaveLength(2);
    expect(open).toHaveBeenCalledTimes(1);
    expect([client.readable, client.writable]).toEqual([true, true]);
  });

  it('can be opened and ended again from an end listener', () => {
    const { client } = setup();
    const end = jest.fn();
    client.once('end', () => {
      client.open();
      client.end();
    });
    client.on('end', end);
    client.end();
    expect(end).toHaveBeenCalledTimes(2);
  });

  it('does not reconnect after end() on purpose', () => {
    const { client } = connected();
    const reconnect = record(client, ['reconnect scheduled', 'reconnect']);
    client.end();
    jest.advanceTimersByTime(120000);
    expect(reconnect).toEqual([]);
  });
});

describe('writing', () => {
  it('buffers writes made before open and flushes them in order before open fires', () => {
    const { client, transport } = setup();
    expect(client.write('one')).toBe(true);
    client.write({ two: 2 });
    client.write([3]);
    let atOpen: unknown[] = [];
    client.on('open', () => (atOpen = transport.last.messages));
    jest.advanceTimersByTime(0);
    expect(transport.last.sent).toEqual([]);
    transport.last.accept();
    expect(atOpen).toEqual(['one', { two: 2 }, [3]]);
    expect(client.buffer).toEqual([]);
  });

  it('drops the oldest buffered writes once queueSize is reached', () => {
    const { client, transport } = setup({ queueSize: 2 });
    client.write('a');
    client.write('b');
    client.write('c');
    jest.advanceTimersByTime(0);
    transport.last.accept();
    expect(transport.last.messages).toEqual(['b', 'c']);
  });

  it('buffers nothing with queueSize 0', () => {
    const { client, transport } = setup({ queueSize: 0 });
    client.write('lost');
    jest.advanceTimersByTime(0);
    transport.last.accept();
    expect(transport.last.messages).toEqual([]);
    client.write('sent');
    expect(transport.last.messages).toEqual(['sent']);
  });

  it('keeps the buffer across end() and sends it on the next open()', () => {
    const { client, transport } = setup({ manual: true });
    client.write('kept');
    client.end();
    client.open();
    transport.last.accept();
    expect(transport.last.messages).toEqual(['kept']);
  });

  it('sends JSON text with U+2028/U+2029 escaped while open', () => {
    const { client, transport } = connected();
    const outgoing = jest.fn();
    client.on('outgoing::data', outgoing);
    client.write('a\u2028b\u2029c');
    expect(transport.last.sent).toEqual(['"a\\u2028b\\u2029c"']);
    expect(outgoing).toHaveBeenCalledWith('"a\\u2028b\\u2029c"');
  });

  it('emits an error for data the parser cannot encode and stays open', () => {
    const { client, transport } = connected();
    const errors: Error[] = [];
    client.on('error', (err: Error) => errors.push(err));
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(client.write(circular)).toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/JSON/);
    expect((errors[0] as Error & { code?: string }).code).toBe('PRIMUS_ERR_PARSER_ENCODE');
    expect(transport.last.sent).toEqual([]);
    expect(client.readyState).toBe(OPEN);
  });
});

describe('receiving', () => {
  it('emits data with the decoded message and the raw frame', () => {
    const { client, transport } = connected();
    const data = jest.fn();
    client.on('data', data);
    transport.last.deliver({ hello: ['world'] });
    expect(data).toHaveBeenCalledWith({ hello: ['world'] }, '{"hello":["world"]}');
  });

  it('emits an error for a frame it cannot decode and keeps the connection', () => {
    const { client, transport } = connected();
    const errors: Error[] = [];
    client.on('error', (err: Error) => errors.push(err));
    const data = jest.fn();
    client.on('data', data);
    transport.last.deliverRaw('{not json');
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error & { code?: string }).code).toBe('PRIMUS_ERR_PARSER_DECODE');
    expect(data).not.toHaveBeenCalled();
    expect(client.readyState).toBe(OPEN);
    transport.last.deliver('still here');
    expect(data).toHaveBeenCalledWith('still here', '"still here"');
  });
});

describe('reconnecting after the connection drops', () => {
  it('emits close, then schedules a reconnect without emitting end (strategy disconnect)', () => {
    const { client, transport } = connected();
    const events = record(client, ['close', 'end', 'reconnect scheduled']);
    transport.last.drop();
    expect(events).toEqual(['close', 'reconnect scheduled']);
    expect(client.readyState).toBe(CLOSED);
  });

  it('emits outgoing::reconnect before reconnect, and reconnected before open', () => {
    const { client, transport } = connected();
    const events = record(client, ['outgoing::reconnect', 'outgoing::open', 'reconnect', 'reconnected', 'open']);
    let during: ReconnectAttempt | undefined;
    client.on('reconnect', (opts: ReconnectAttempt) => (during = opts));

    transport.last.drop();
    jest.advanceTimersByTime(499);
    expect(transport.connections).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(transport.connections).toHaveLength(2);
    expect(during).toBe(client.recovery.attempt);
    expect(during).toMatchObject({ attempt: 1, scheduled: 500, min: 500 });
    transport.last.accept();

    expect(events).toEqual(['outgoing::reconnect', 'outgoing::open', 'reconnect', 'reconnected', 'open']);
    expect(client.recovery.attempt).toBeNull();
    expect(client.readyState).toBe(OPEN);
  });

  it('emits end before reconnect failed once the retries are used up, and no error for the attempts', () => {
    const { client, transport } = connected({ reconnect: { min: 10, retries: 2 } });
    const events = record(client, ['reconnect scheduled', 'reconnect', 'error', 'end', 'reconnect failed', 'readyStateChange']);
    transport.last.drop();
    for (let attempt = 0; attempt < 2; attempt++) {
      jest.advanceTimersByTime(40);
      // A refused connection reports an error and then its close, like a WebSocket does.
      transport.last.fail();
      transport.last.drop();
    }
    expect(events).toEqual([
      'readyStateChange:end',
      'reconnect scheduled',
      'readyStateChange:opening',
      'reconnect',
      // the error fails the attempt at once; the close that follows settles the state
      'reconnect scheduled',
      'readyStateChange:end',
      'readyStateChange:opening',
      'reconnect',
      'readyStateChange:end',
      'end',
      'reconnect failed',
    ]);
    expect(client.readyState).toBe(CLOSED);
    expect(client.recovery.reconnecting()).toBe(false);
  });

  it('ends instead of reconnecting with strategy:false', () => {
    const { client, transport } = connected({ strategy: false });
    const events = record(client, ['close', 'end', 'reconnect scheduled']);
    transport.last.drop();
    jest.advanceTimersByTime(60000);
    expect(events).toEqual(['close', 'end']);
    expect(transport.connections).toHaveLength(1);
  });

  it('ends for good after primus::server::close, in the happn-primus order', () => {
    const { client, transport } = connected();
    const events = record(client, ['incoming::data', 'incoming::end', 'readyStateChange', 'outgoing::end', 'close', 'end', 'reconnect scheduled', 'data']);
    transport.last.deliver('primus::server::close');
    // The message only arms the flag; the connection ends when the server closes it.
    expect(client.readyState).toBe(OPEN);
    transport.last.drop();
    jest.advanceTimersByTime(60000);
    expect(events).toEqual(['incoming::data', 'incoming::end', 'readyStateChange:end', 'outgoing::end', 'close', 'end']);
    expect(transport.connections).toHaveLength(1);
  });

  it('has no timers left at close, and only the heartbeat once open', () => {
    const { client, transport } = connected();
    expect(client.timers.size).toBe(1);
    const atClose: number[] = [];
    client.on('close', () => atClose.push(client.timers.size));
    transport.last.drop();
    jest.advanceTimersByTime(500);
    transport.last.accept();
    expect(client.timers.size).toBe(1);
    transport.last.deliver('primus::server::close');
    transport.last.drop();
    expect(atClose).toEqual([0, 0]);
    expect(client.timers.size).toBe(0);
  });

  it('stops reconnecting when end() is called from reconnect scheduled', () => {
    const { client, transport } = connected();
    const events = record(client, ['reconnect', 'end']);
    client.on('reconnect scheduled', () => client.end());
    transport.last.drop();
    jest.advanceTimersByTime(120000);
    expect(events).toEqual(['end']);
    expect(transport.connections).toHaveLength(1);
  });

  it('really stops when end() is called while a reconnect attempt is in flight', () => {
    const { client, transport } = connected();
    transport.last.drop();
    jest.advanceTimersByTime(500);
    expect(client.readyState).toBe(OPENING);
    const attempt = transport.last;

    const events = record(client, ['reconnect timeout', 'reconnect scheduled', 'reconnect', 'end']);
    client.end();
    jest.advanceTimersByTime(120000);

    expect(events).toEqual(['end']);
    expect(attempt.closed).toBe(true);
    expect(transport.connections).toHaveLength(2);
    expect(client.recovery.reconnecting()).toBe(false);
  });

  it('moves on to the next attempt when one closes without an error, even past the old attempt timeout', () => {
    const { client, transport } = connected({ reconnect: { min: 20000 } });
    const attempts: number[] = [];
    client.on('reconnect', (opts: ReconnectAttempt) => attempts.push(opts.attempt));
    transport.last.drop();
    jest.advanceTimersByTime(20000);
    transport.last.drop();
    // attempt 2 waits 40 s (Math.random is 0), longer than the 30 s left on attempt 1's timeout
    jest.advanceTimersByTime(40000);
    expect(attempts).toEqual([1, 2]);
    transport.last.accept();
    expect(client.readyState).toBe(OPEN);
  });
});

describe('the first connection', () => {
  it('emits timeout after options.timeout and then reconnects (strategy timeout)', () => {
    const { client } = setup({ timeout: 2000 });
    const events = record(client, ['timeout', 'reconnect scheduled', 'end']);
    jest.advanceTimersByTime(1999);
    expect(events).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(events).toEqual(['timeout', 'reconnect scheduled']);
  });

  it('abandons the timed-out connection, so a late open cannot race the reconnect', () => {
    const { client, transport } = setup({ timeout: 2000, reconnect: { min: 100 } });
    const events = record(client, ['timeout', 'reconnect scheduled', 'open']);
    jest.advanceTimersByTime(2000);
    const late = transport.last;
    expect(late.closed).toBe(true);
    late.accept();
    expect(events).toEqual(['timeout', 'reconnect scheduled']);
    jest.advanceTimersByTime(100);
    expect(transport.last).not.toBe(late);
    transport.last.accept();
    expect(events).toEqual(['timeout', 'reconnect scheduled', 'open']);
    expect(client.readyState).toBe(OPEN);
  });

  it('emits timeout and ends when the strategy has no timeout', () => {
    const { client, transport } = setup({ timeout: 2000, strategy: 'disconnect,online' });
    const events = record(client, ['timeout', 'reconnect scheduled', 'end']);
    jest.advanceTimersByTime(2000);
    expect(events).toEqual(['timeout', 'end']);
    expect(client.readyState).toBe(CLOSED);
    expect(transport.last.closed).toBe(true);
  });

  it('waits forever with timeout:false', () => {
    const { client } = setup({ timeout: false });
    const events = record(client, ['timeout', 'reconnect scheduled', 'end']);
    jest.advanceTimersByTime(600000);
    expect(events).toEqual([]);
    expect(client.readyState).toBe(OPENING);
  });

  it('does not put the connect timeout on reconnect attempts; they use reconnect timeout', () => {
    const { client, transport } = connected({ timeout: 1000, reconnect: { 'reconnect timeout': 50000 } });
    const events = record(client, ['timeout', 'reconnect timeout']);
    transport.last.drop();
    jest.advanceTimersByTime(500 + 49999);
    expect(events).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(events).toEqual(['reconnect timeout']);
  });

  it('emits the error of a failed connect and reconnects (strategy timeout)', () => {
    const { client, transport } = setup();
    const events = record(client, ['error', 'reconnect scheduled', 'end']);
    const errors: Error[] = [];
    client.on('error', (err: Error) => errors.push(err));
    jest.advanceTimersByTime(0);
    transport.last.fail('ECONNREFUSED');
    expect(events).toEqual(['error', 'reconnect scheduled']);
    expect(errors[0]).toBeInstanceOf(Error);
    expect(errors[0]!.message).toBe('ECONNREFUSED');
  });

  it('emits the error of a failed connect and ends without strategy timeout', () => {
    const { client, transport } = setup({ strategy: 'disconnect' });
    const events = record(client, ['error', 'reconnect scheduled', 'end']);
    jest.advanceTimersByTime(0);
    transport.last.fail({ reason: 'refused', code: 4001 });
    expect(events).toEqual(['error', 'end']);
  });

  it('reports an error object as PRIMUS_ERR_CONNECTION with its reason as the message and the object as the cause', () => {
    const { client, transport } = setup({ strategy: false });
    const errors: Error[] = [];
    client.on('error', (err: Error) => errors.push(err));
    jest.advanceTimersByTime(0);
    const reported = { reason: 'refused', code: 4001 };
    transport.last.fail(reported);
    expect(errors[0]).toBeInstanceOf(PrimusError);
    expect(errors[0]).toMatchObject({ message: 'refused', code: 'PRIMUS_ERR_CONNECTION', cause: reported });
  });

  it('passes a transport Error with a code of its own on as it is, and wraps one without', () => {
    const { client, transport } = setup({ strategy: false, manual: true });
    const errors: Error[] = [];
    client.on('error', (err: Error) => errors.push(err));
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    client.open();
    jest.advanceTimersByTime(0);
    transport.last.fail(refused);
    expect(errors[0]).toBe(refused);
    client.open();
    jest.advanceTimersByTime(0);
    const plain = new Error('socket hang up');
    transport.last.fail(plain);
    expect(errors[1]).toMatchObject({ name: 'PrimusError', code: 'PRIMUS_ERR_CONNECTION', message: 'socket hang up', cause: plain });
  });

  it('ends when the first connection closes without an error', () => {
    const { client, transport } = setup();
    const events = record(client, ['error', 'reconnect scheduled', 'end']);
    jest.advanceTimersByTime(0);
    transport.last.drop();
    jest.advanceTimersByTime(60000);
    expect(events).toEqual(['end']);
  });

  it('does not emit error for a failed reconnect attempt, and counts on', () => {
    const { client, transport } = connected();
    const errors = jest.fn();
    client.on('error', errors);
    const attempts: number[] = [];
    client.on('reconnect scheduled', (opts: ReconnectAttempt) => attempts.push(opts.attempt));
    transport.last.drop();
    jest.advanceTimersByTime(500);
    transport.last.fail(new Error('refused'));
    expect(errors).not.toHaveBeenCalled();
    expect(attempts).toEqual([1, 2]);
  });
});

describe('id()', () => {
  it('uses the id the transport knows without asking the server', () => {
    const { client, transport } = setup();
    transport.nextId = 'engine-sid';
    jest.advanceTimersByTime(0);
    transport.last.accept();
    const id = jest.fn();
    client.id(id);
    expect(id).toHaveBeenCalledWith('engine-sid');
    expect(transport.last.sent).toEqual([]);
  });

  it('asks the server with primus::id:: and answers with its reply', () => {
    const { client, transport } = setup();
    const id = jest.fn();
    client.id(id);
    jest.advanceTimersByTime(0);
    transport.last.accept();
    expect(transport.last.sent).toEqual(['"primus::id::"']);
    expect(id).not.toHaveBeenCalled();
    const data = jest.fn();
    client.on('data', data);
    transport.last.deliver('primus::id::spark-42');
    expect(id).toHaveBeenCalledWith('spark-42');
    expect(data).not.toHaveBeenCalled();
  });
});

describe('transform()', () => {
  it('rejects an unknown type and a non-function', () => {
    const { client } = setup({ manual: true });
    expect(() => client.transform('cowsack' as never, () => {})).toThrow(/transformer/);
    expect(() => client.transform('cowsack' as never, () => {})).toThrow(expect.objectContaining({ code: 'PRIMUS_ERR_TRANSFORM_TYPE' }));
    expect(() => client.transform('incoming', 'nope' as never)).toThrow(PrimusError);
    expect(() => client.transform('incoming', 'nope' as never)).toThrow(expect.objectContaining({ code: 'PRIMUS_ERR_TRANSFORM_TYPE' }));
  });

  it('rewrites outgoing data synchronously, through a callback, or through a promise', () => {
    const { client, transport } = connected();
    const contexts: unknown[] = [];
    client.transform('outgoing', function (this: unknown, packet: Packet) {
      contexts.push(this);
      packet.data = { sync: packet.data };
    });
    client.transform('outgoing', (packet, next: TransformNext) => {
      packet.data = { callback: packet.data };
      next();
    });
    client.transform('outgoing', async (packet: Packet) => {
      packet.data = { promise: packet.data };
    });
    client.write('x');
    return Promise.resolve().then(() => {
      expect(transport.last.messages).toEqual([{ promise: { callback: { sync: 'x' } } }]);
      expect(contexts).toEqual([client]);
    });
  });

  it('drops outgoing data when a transformer returns false or calls next(undefined, false)', () => {
    const sync = connected();
    sync.client.transform('outgoing', (packet: Packet) => packet.data !== 'secret');
    const outgoing = jest.fn();
    sync.client.on('outgoing::data', outgoing);
    sync.client.write('secret');
    sync.client.write('public');
    expect(sync.transport.last.messages).toEqual(['public']);
    expect(outgoing).toHaveBeenCalledTimes(1);

    const async = connected();
    async.client.transform('outgoing', (_packet, next: TransformNext) => next(undefined, false));
    async.client.write('dropped');
    expect(async.transport.last.sent).toEqual([]);
  });

  it('emits an error when an asynchronous transformer fails', () => {
    const { client, transport } = connected();
    client.transform('outgoing', (_packet, next: TransformNext) => next(new Error('nope')));
    const errors: Error[] = [];
    client.on('error', (err: Error) => errors.push(err));
    client.write('x');
    expect(errors.map((err) => err.message)).toEqual(['An outgoing message transformer failed: nope']);
    expect(errors.map((err) => (err as Error & { code?: string }).code)).toEqual(['PRIMUS_ERR_TRANSFORM']);
    expect(transport.last.sent).toEqual([]);
  });

  it('rewrites and drops incoming data', () => {
    const { client, transport } = connected();
    client.transform('incoming', (packet: Packet) => {
      if (packet.data === 'drop me') return false;
      packet.data = { sync: packet.data };
      return undefined;
    });
    client.transform('incoming', (packet, next: TransformNext) => {
      if ((packet.data as { sync: unknown }).sync === 'drop me later') return next(undefined, false);
      packet.data = { callback: packet.data };
      next();
    });
    const data = jest.fn();
    client.on('data', data);
    transport.last.deliver('drop me');
    transport.last.deliver('drop me later');
    transport.last.deliver('kept');
    expect(data).toHaveBeenCalledTimes(1);
    expect(data).toHaveBeenCalledWith({ callback: { sync: 'kept' } }, '"kept"');
  });

  it('does not run transformers on control messages', () => {
    const { client, transport } = connected({ ping: 1000 });
    client.transform('outgoing', () => false);
    jest.advanceTimersByTime(1000);
    expect(transport.last.pings).toHaveLength(1);
  });
});

describe('API guards and lifecycle helpers', () => {
  it('throws when a method is called with a foreign this', () => {
    const { client } = setup({ manual: true });
    const Primus = client.constructor as { prototype: PrimusClient };
    for (const method of ['open', 'write', 'end', 'transform', 'plugin'] as const) {
      expect(() => (Primus.prototype[method] as (...args: unknown[]) => unknown).call({}, 'incoming', () => {})).toThrow(new RegExp(`Primus#${method}.*context`));
    }
  });

  it('knows its reserved events', () => {
    const { client } = setup({ manual: true });
    for (const evt of [
      'incoming::data',
      'outgoing::anything',
      'reconnect scheduled',
      'reconnect timeout',
      'readyStateChange',
      'reconnect failed',
      'reconnected',
      'reconnect',
      'offline',
      'timeout',
      'online',
      'error',
      'close',
      'open',
      'data',
      'end',
    ]) {
      expect([evt, client.reserved(evt)]).toEqual([evt, true]);
    }
    for (const evt of ['destroy', 'INCOMING::data', 'custom', 'Data']) {
      expect([evt, client.reserved(evt)]).toEqual([evt, false]);
    }
  });

  it('runs plugins at construction and hands them out by name', () => {
    const seen: unknown[] = [];
    const plugin: ClientPlugin = function (this: PrimusClient, primus, options) {
      seen.push(this === primus, options.pluginTestOption);
    };
    const { client } = setup({ manual: true, pluginTestOption: 'yes' }, { plugins: { tracker: plugin } });
    expect(seen).toEqual([true, 'yes']);
    expect(client.plugin('tracker')).toBe(plugin);
    expect(client.plugin('missing')).toBeUndefined();
    const all = client.plugin();
    expect(all).toEqual({ tracker: plugin });
    delete all.tracker;
    expect(client.plugin('tracker')).toBe(plugin);
  });

  it('destroy() ends, frees timers, emits destroy, drops listeners, and happens once', () => {
    const { client, transport } = connected();
    const events = record(client, ['end', 'destroy']);
    const connection = transport.last;

    expect(client.destroy()).toBe(true);
    expect(events).toEqual(['end', 'destroy']);
    expect(connection.closed).toBe(true);
    expect(client.timers.size).toBe(0);
    expect(client.listenerCount('end')).toBe(0);
    expect(client.destroy()).toBe(false);
    expect(() => client.open()).toThrow(/destroyed/);
    jest.advanceTimersByTime(120000);
    expect(transport.connections).toHaveLength(1);
  });

  it('destroy() cancels a pending reconnect', () => {
    const { client, transport } = connected();
    transport.last.drop();
    client.destroy();
    jest.advanceTimersByTime(120000);
    expect(transport.connections).toHaveLength(1);
  });
});
