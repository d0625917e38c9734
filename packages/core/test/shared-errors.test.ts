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
