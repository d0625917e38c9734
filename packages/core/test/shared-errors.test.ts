import { afterEach, describe, expect, it } from '@jest/globals';
import * as client from '@primus/client';
import { ParserError, PrimusError, type Spark } from '@primus/core';
import { nextSpark, once } from '@primus/transformer-test-suite';
import { cleanup, connectRaw, start } from './helpers';

afterEach(cleanup);

type CodedError = Error & { code?: string; cause?: unknown };

describe('one error class for the server and the client', () => {
  it('exports the same PrimusError and ParserError from @primus/core and @primus/client', () => {
    expect(ParserError).toBe(client.ParserError);
    expect(PrimusError).toBe(client.PrimusError);
  });

  it("makes a client's decode error an instance of the core's ParserError, and a spark's of the client's", async () => {
    const server = await start();
    const sparkReady = nextSpark(server.primus);
    const socket = server.client({}, { errors: 'expected' });
    await once(socket, 'open');
    const spark: Spark = await sparkReady;

    const clientError = once<[CodedError]>(socket, 'error');
    spark.socket!.send('{not json');
    const [atClient] = await clientError;
    expect(atClient).toBeInstanceOf(ParserError);
    expect(atClient).toBeInstanceOf(PrimusError);
    expect(atClient.code).toBe('PRIMUS_ERR_PARSER_DECODE');

    const raw = await connectRaw(server);
    const sparkError = once<[CodedError]>(raw.spark, 'error');
    raw.ws.send('{not json');
    const [atServer] = await sparkError;
    expect(atServer).toBeInstanceOf(client.ParserError);
    expect(atServer.code).toBe('PRIMUS_ERR_PARSER_DECODE');
  });
});

describe('message transformer failures in the client', () => {
  it('are wrapped with PRIMUS_ERR_TRANSFORM and the cause, as on the server, for both directions', async () => {
    const server = await start();
    const sparkReady = nextSpark(server.primus);
    const socket = server.client({}, { errors: 'expected' });
    await once(socket, 'open');
    const spark = await sparkReady;

    const outgoingCause = new Error('outgoing broke');
    socket.transform('outgoing', (_packet, next) => next(outgoingCause));
    const outgoing = once<[CodedError]>(socket, 'error');
    socket.write('x');
    const [outErr] = await outgoing;
    expect(outErr).toBeInstanceOf(PrimusError);
    expect(outErr).toMatchObject({ code: 'PRIMUS_ERR_TRANSFORM', message: 'An outgoing message transformer failed: outgoing broke' });
    expect(outErr.cause).toBe(outgoingCause);

    const incomingCause = new Error('incoming broke');
    socket.transform('incoming', async (_packet) => {
      throw incomingCause;
    });
    const incoming = once<[CodedError]>(socket, 'error');
    spark.write('y');
    const [inErr] = await incoming;
    expect(inErr).toMatchObject({ code: 'PRIMUS_ERR_TRANSFORM', message: 'An incoming message transformer failed: incoming broke' });
    expect(inErr.cause).toBe(incomingCause);
  });
});

describe('message transformers that throw or take no parameter', () => {
  it('turn a synchronous throw into PRIMUS_ERR_TRANSFORM on the spark and on the client, and the next message still arrives', async () => {
    const server = await start();
    const cause = new Error('sync broke');
    server.primus.transform('incoming', (packet) => {
      if (packet.data === 'bad') throw cause;
    });
    const sparkReady = nextSpark(server.primus);
    const socket = server.client({}, { errors: 'expected' });
    socket.transform('incoming', (packet) => {
      if (packet.data === 'bad') throw cause;
    });
    await once(socket, 'open');
    const spark = await sparkReady;

    const sparkError = once<[CodedError]>(spark, 'error');
    socket.write('bad');
    const [atServer] = await sparkError;
    expect(atServer).toMatchObject({ code: 'PRIMUS_ERR_TRANSFORM', message: 'An incoming message transformer failed: sync broke' });
    expect(atServer.cause).toBe(cause);
    const good = once<[unknown]>(spark, 'data');
    socket.write('good');
    expect((await good)[0]).toBe('good');

    const clientError = once<[CodedError]>(socket, 'error');
    spark.write('bad');
    const [atClient] = await clientError;
    expect(atClient).toMatchObject({ code: 'PRIMUS_ERR_TRANSFORM', message: 'An incoming message transformer failed: sync broke' });
    const next = once<[unknown]>(socket, 'data');
    spark.write('after');
    expect((await next)[0]).toBe('after');
  });

  it('treat an async transformer declared without parameters as one that returns a promise', async () => {
    const server = await start();
    let seen = 0;
    // Declares no parameter (length 0): drops every second message by resolving to false.
    server.primus.transform('incoming', async () => (++seen % 2 === 0 ? false : undefined));
    const sparkReady = nextSpark(server.primus);
    const socket = server.client();
    await once(socket, 'open');
    const spark = await sparkReady;
    const received: unknown[] = [];
    spark.on('data', (data: unknown) => received.push(data));
    for (const n of [1, 2, 3]) socket.write(n);
    const third = new Promise<void>((resolve) => spark.on('data', (data: unknown) => data === 3 && resolve()));
    await third;
    expect(received).toEqual([1, 3]);
  });
});
