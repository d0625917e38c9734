import { type PassThrough, Readable, Stream, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from '@jest/globals';
import { CLOSED, DEFAULT_PING, DEFAULT_PONG, MAX_HEARTBEAT, MIN_HEARTBEAT, OPEN, Spark } from '@primus/core';
import { cleanup, connectRaw, detached, flush, sent, start } from './helpers';

afterEach(cleanup);

describe('Spark', () => {
  describe('identity', () => {
    it('generates a unique string id, or uses the one it is given', () => {
      const primus = detached();
      const a = new primus.Spark();
      const b = new primus.Spark();
      expect(typeof a.id).toBe('string');
      expect(a.id.length).toBeGreaterThan(0);
      expect(a.id).not.toBe(b.id);
      expect(new primus.Spark({}, {}, {}, 'my-id').id).toBe('my-id');
    });

    it('belongs to the server whose Spark class made it', () => {
      const primus = detached();
      const spark = new primus.Spark();
      expect(spark.primus).toBe(primus);
      expect(spark).toBeInstanceOf(Spark);
      expect(primus.Spark.OPEN).toBe(OPEN);
      expect(primus.Spark.CLOSED).toBe(CLOSED);
    });
  });

  describe('as a stream', () => {
    it('is a Node stream', () => {
      expect(new (detached().Spark)()).toBeInstanceOf(Stream);
    });

    it('pipes received data into a writable, and ends it when the spark ends', async () => {
      const primus = detached();
      const spark = new primus.Spark();
      await flush();
      const seen: unknown[] = [];
      const sink = new Writable({
        objectMode: true,
        write(chunk, _encoding, done) {
          seen.push(chunk);
          done();
        },
      });
      spark.pipe(sink);
      spark.incomingData('"one"');
      spark.incomingData('{"two":2}');
      spark.end();
      await new Promise((resolve) => sink.on('finish', resolve));
      expect(seen).toEqual(['one', { two: 2 }]);
    });

    it('accepts a readable piped into it: each chunk is a message, the end ends the spark', async () => {
      const primus = detached();
      const spark = new primus.Spark();
      const payloads = sent(spark);
      const ended = new Promise<void>((resolve) => spark.on('end', resolve));
      Readable.from(['a', 'b', 'c']).pipe(spark as unknown as PassThrough);
      await ended;
      expect(payloads).toEqual(['a', 'b', 'c', 'primus::server::close']);
    });
  });

  describe('readyState', () => {
    it('starts OPEN and emits readyStateChange only when the state really changes', () => {
      const spark = new (detached().Spark)();
      let changes = 0;
      spark.on('readyStateChange', () => changes++);
      expect(spark.readyState).toBe(OPEN);
      spark.readyState = OPEN;
      expect(changes).toBe(0);
      spark.readyState = CLOSED;
      expect(changes).toBe(1);
      expect(spark.readyState).toBe(CLOSED);
    });

    it('is CLOSED after end(), and writes then return false and send nothing', () => {
      const spark = new (detached().Spark)();
      const payloads = sent(spark);
      spark.end();
      expect(spark.readyState).toBe(CLOSED);
      expect(spark.write('late')).toBe(false);
      expect(payloads).toEqual(['primus::server::close']);
    });
  });

  describe('query', () => {
    it('parses a string query and turns ping/pong into numbers', () => {
      const spark = new (detached().Spark)({}, {}, '?foo=bar&ping=2000&pong=1000');
      expect(spark.query).toEqual({ foo: 'bar', ping: 2000, pong: 1000 });
    });

    it('accepts an already parsed query object', () => {
      const spark = new (detached().Spark)({}, {}, { foo: 'bar', ping: '3000', pong: 500 });
      expect(spark.query).toEqual({ foo: 'bar', ping: 3000, pong: 500 });
    });

    it('fills in the happn defaults (25000/10000) when the client sends no heartbeat values', () => {
      const spark = new (detached().Spark)({}, {}, 'string=foo');
      expect(spark.query).toEqual({ string: 'foo', ping: DEFAULT_PING, pong: DEFAULT_PONG });
      expect(DEFAULT_PING).toBe(25000);
      expect(DEFAULT_PONG).toBe(10000);
      expect(new (detached().Spark)().query).toEqual({ ping: 25000, pong: 10000 });
    });

    it('keeps ping=false as the string "false" and starts no heartbeat timer', () => {
      const spark = new (detached().Spark)({}, {}, 'ping=false&pong=4000');
      expect(spark.query.ping).toBe('false');
      expect(spark.query.pong).toBe('4000');
      expect(spark.timeout).toBeNull();
    });

    it('starts a heartbeat timer for a normal client', () => {
      expect(new (detached().Spark)({}, {}, 'ping=2000&pong=1000').timeout).not.toBeNull();
    });

    it.each([
      ['ping=abc&pong=xyz', DEFAULT_PING, DEFAULT_PONG],
      ['ping=-5&pong=-1', DEFAULT_PING, DEFAULT_PONG],
      ['ping=NaN&pong=NaN', DEFAULT_PING, DEFAULT_PONG],
      ['ping=&pong=', DEFAULT_PING, DEFAULT_PONG],
      ['ping=0&pong=0', DEFAULT_PING, DEFAULT_PONG],
      ['ping=1&pong=2', MIN_HEARTBEAT, MIN_HEARTBEAT],
      ['ping=1e12&pong=1e12', MAX_HEARTBEAT, MAX_HEARTBEAT],
      ['ping=999999999999&pong=5000', MAX_HEARTBEAT, 5000],
      ['ping=Infinity&pong=1e400', MAX_HEARTBEAT, MAX_HEARTBEAT],
      ['ping=150.7&pong=-Infinity', 150, DEFAULT_PONG],
      ['ping=100&ping=200&pong=300&pong=400', 200, 400],
    ])('replaces or clamps absurd heartbeat values: %s', (query, ping, pong) => {
      const spark = new (detached().Spark)({}, {}, query);
      expect(spark.query.ping).toBe(ping);
      expect(spark.query.pong).toBe(pong);
      expect(spark.timeout).not.toBeNull();
    });

    it('clamps numbers given in an object query too', () => {
      const spark = new (detached().Spark)({}, {}, { ping: 10, pong: Number.POSITIVE_INFINITY });
      expect(spark.query.ping).toBe(MIN_HEARTBEAT);
      expect(spark.query.pong).toBe(MAX_HEARTBEAT);
    });
  });

  describe('reserved()', () => {
    it('reserves the internal prefixes and the public events, case-sensitively', () => {
      const spark = new (detached().Spark)();
      for (const evt of ['incoming::data', 'outgoing::whatever', 'readyStateChange', 'heartbeat', 'error', 'data', 'end']) {
        expect(spark.reserved(evt)).toBe(true);
      }
      for (const evt of ['ERROR', 'Incoming::data', 'custom', 'log']) {
        expect(spark.reserved(evt)).toBe(false);
      }
    });
  });

  describe('write()', () => {
    it('emits outgoing::data with exactly the JSON text and returns true', () => {
      const spark = new (detached().Spark)();
      const payloads: unknown[] = [];
      spark.on('outgoing::data', (payload) => payloads.push(payload));
      expect(spark.write({ foo: 'bar' })).toBe(true);
      expect(payloads).toEqual([JSON.stringify({ foo: 'bar' })]);
    });

    it('escapes U+2028 and U+2029 in the encoded text', () => {
      const spark = new (detached().Spark)();
      const payloads: unknown[] = [];
      spark.on('outgoing::data', (payload) => payloads.push(payload));
      spark.write(['\u2028\u2029']);
      expect(payloads).toEqual(['["\\u2028\\u2029"]']);
    });

    it('reports a message that cannot be encoded as a parser error and keeps the spark open', () => {
      const spark = new (detached().Spark)();
      const errors: Error[] = [];
      spark.on('error', (err) => errors.push(err));
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      expect(spark.write(circular)).toBe(true);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(Error);
      expect((errors[0] as { code?: string }).code).toBe('PRIMUS_ERR_PARSER_ENCODE');
      expect(spark.readyState).toBe(OPEN);
    });

    it('logs instead of throwing when nobody listens for errors', () => {
      const primus = detached();
      const spark = new primus.Spark();
      const logged: unknown[][] = [];
      primus.on('log', (...args) => logged.push(args));
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      expect(() => spark.write(circular)).not.toThrow();
      expect(logged.some(([level, err]) => level === 'error' && (err as { code?: string }).code === 'PRIMUS_ERR_PARSER_ENCODE')).toBe(true);
    });

    it('drops a write that encodes to nothing', () => {
      const spark = new (detached().Spark)();
      const payloads = sent(spark);
      spark.write(undefined);
      spark.write(() => 1);
      expect(payloads).toEqual([]);
    });
  });

  describe('end()', () => {
    it('writes the data, then primus::server::close, then closes the transport', async () => {
      const server = await start();
      const client = await connectRaw(server);
      client.spark.end('ciao');
      expect(await client.next()).toBe('"ciao"');
      expect(await client.next()).toBe('"primus::server::close"');
      expect(await client.closed).toBe(1000);
    });

    it('with { reconnect: true } sends no primus::server::close', async () => {
      const server = await start();
      const client = await connectRaw(server);
      const messages: unknown[] = [];
      client.ws.on('message', (data) => messages.push(data.toString()));
      client.spark.end('bye', { reconnect: true });
      expect(await client.closed).toBe(1000);
      expect(messages).toEqual(['"bye"']);
    });

    it('emits disconnection on the server before the user end listeners run', async () => {
      const primus = detached();
      const spark = new primus.Spark();
      await flush();
      const order: string[] = [];
      primus.on('disconnection', (gone) => order.push(gone === spark ? 'disconnection' : 'other'));
      spark.on('end', () => order.push('end'));
      spark.on('outgoing::end', () => order.push('outgoing::end'));
      spark.end();
      expect(order).toEqual(['outgoing::end', 'disconnection', 'end']);
    });

    it('ends only once', () => {
      const spark = new (detached().Spark)();
      let ends = 0;
      spark.on('end', () => ends++);
      spark.end();
      spark.end();
      expect(ends).toBe(1);
    });

    it('leaves user listeners in place', () => {
      const spark = new (detached().Spark)();
      const seen: unknown[] = [];
      spark.on('data', (data) => seen.push(data));
      spark.end();
      spark.emit('data', 'still listening', undefined);
      expect(seen).toEqual(['still listening']);
    });
  });

  describe('initialise hooks', () => {
    it("runs hooks added to one server's Spark.prototype on that server's sparks only", () => {
      const withHook = detached();
      const without = detached();
      const globalHooks = (Spark.prototype as unknown as { __initialise: unknown[] }).__initialise.length;
      const tagged: Spark[] = [];
      function tag(this: Spark): void {
        tagged.push(this);
      }
      withHook.Spark.prototype.initialise = tag;

      expect(withHook.Spark.prototype.initialise).toBe(tag);
      const mine = new withHook.Spark();
      new without.Spark();
      expect(tagged).toEqual([mine]);
      expect(without.Spark.prototype.initialise).not.toBe(tag);
      expect((Spark.prototype as unknown as { __initialise: unknown[] }).__initialise.length).toBe(globalHooks);
    });

    it('runs hooks in the order they were added, after the query is known', () => {
      const primus = detached();
      const calls: unknown[] = [];
      primus.Spark.prototype.initialise = function first(this: Spark) {
        calls.push(['first', this.query.ping]);
      };
      primus.Spark.prototype.initialise = function second() {
        calls.push('second');
      };
      new primus.Spark({}, {}, 'ping=2000');
      expect(calls).toEqual([['first', 2000], 'second']);
    });

    it('lets a server extend its own sparks without touching other servers', () => {
      const a = detached();
      const b = detached();
      (a.Spark.prototype as unknown as { join(): string }).join = () => 'joined';
      expect((new a.Spark() as unknown as { join(): string }).join()).toBe('joined');
      expect((new b.Spark() as unknown as { join?: unknown }).join).toBeUndefined();
      expect((Spark.prototype as unknown as { join?: unknown }).join).toBeUndefined();
    });

    it('refuses a hook that is not a function', () => {
      const primus = detached();
      expect(() => {
        (primus.Spark.prototype as unknown as { initialise: unknown }).initialise = 'nope';
      }).toThrow(TypeError);
    });
  });

  describe('connection announcement', () => {
    it('is announced on the next tick, and data received before that is delivered afterwards in order', async () => {
      const primus = detached();
      const order: unknown[] = [];
      primus.on('connection', (spark: Spark) => {
        order.push('connection');
        spark.on('data', (data) => order.push(data));
      });
      const spark = new primus.Spark();
      spark.incomingData('"early"');
      expect(primus.spark(spark.id)).toBeUndefined();
      await flush();
      expect(order).toEqual(['connection', 'early']);
      expect(primus.spark(spark.id)).toBe(spark);
    });

    it('holds data back until an asynchronous connection listener calls next', async () => {
      const primus = detached();
      const order: unknown[] = [];
      let release: () => void = () => {};
      primus.on('connection', (spark: Spark, next?: (err?: Error) => void) => {
        spark.on('data', (data) => order.push(data));
        release = () => next!();
      });
      const spark = new primus.Spark();
      await flush();
      spark.incomingData('"hello"');
      spark.incomingData('"in"');
      expect(order).toEqual([]);
      release();
      spark.incomingData('"order"');
      expect(order).toEqual(['hello', 'in', 'order']);
    });

    it('ends the spark with primus::server::close when a connection listener fails', async () => {
      const primus = detached();
      primus.on('connection', (_spark: Spark, next?: (err?: Error) => void) => next!(new Error('not today')));
      const spark = new primus.Spark();
      const payloads = sent(spark);
      const errors: Error[] = [];
      spark.on('error', (err) => errors.push(err));
      await flush();
      expect(errors.map((err) => err.message)).toEqual(['not today']);
      expect(payloads).toEqual(['primus::server::close']);
      expect(spark.readyState).toBe(CLOSED);
    });
  });
});
