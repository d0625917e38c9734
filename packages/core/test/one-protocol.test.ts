import { afterEach, describe, expect, it } from '@jest/globals';
import type { PrimusClient } from '@primus/client';
import { PrimusError, type Parser, type Spark } from '@primus/core';
import { nextSpark, once } from '@primus/transformer-test-suite';
import { cleanup, start } from './helpers';

// The server (for each spark) and the client run one protocol kernel (@primus/protocol): the same
// message, the same transformer, the same parser failure gives the same result on either side.
// Each test runs one scenario in both directions over a real websockets connection.

afterEach(cleanup);

type CodedError = Error & { code?: string; cause?: unknown };

async function pair(options: Parameters<typeof start>[0] = {}): Promise<{ client: PrimusClient; spark: Spark }> {
  const server = await start(options);
  const sparkReady = nextSpark(server.primus);
  const client = server.client({}, { errors: 'expected' });
  await once(client, 'open');
  return { client, spark: await sparkReady };
}

describe('one protocol for the server and the client', () => {
  it('a message the parser encodes to an empty string is not sent, from either side', async () => {
    // A custom parser with nothing to say for null.
    const parser: Parser = {
      name: 'quiet-null',
      encode: (data: unknown) => (data === null ? '' : JSON.stringify(data)),
      decode: (raw: unknown) => JSON.parse(String(raw)),
    };
    const { client, spark } = await pair({ parser });

    const atServer: unknown[] = [];
    spark.on('incoming::data', (raw: unknown) => atServer.push(String(raw)));
    const serverData = once<[unknown]>(spark, 'data');
    client.write(null);
    client.write('after');
    expect((await serverData)[0]).toBe('after');
    expect(atServer).toEqual(['"after"']);

    const atClient: unknown[] = [];
    client.on('incoming::data', (raw: unknown) => atClient.push(String(raw)));
    const clientData = once<[unknown]>(client, 'data');
    spark.write(null);
    spark.write('back');
    expect((await clientData)[0]).toBe('back');
    expect(atClient).toEqual(['"back"']);
  });

  it("a parser failing with a plain object is reported with the object's message, on either side", async () => {
    const parser: Parser = {
      name: 'picky',
      encode: (data: unknown) => JSON.stringify(data),
      decode: (raw: unknown) => {
        if (String(raw) === '"boom"') throw { message: 'not a message I know' };
        return JSON.parse(String(raw));
      },
    };
    const { client, spark } = await pair({ parser });

    const sparkError = once<[CodedError]>(spark, 'error');
    client.write('boom');
    const [atServer] = await sparkError;

    const clientError = once<[CodedError]>(client, 'error');
    spark.write('boom');
    const [atClient] = await clientError;

    for (const error of [atServer, atClient]) {
      expect(error).toMatchObject({ name: 'ParserError', code: 'PRIMUS_ERR_PARSER_DECODE', message: 'Failed to decode incoming data: not a message I know' });
      expect(error.cause).toEqual({ message: 'not a message I know' });
    }
  });

  it('transform() rejects a bad type or a non-function with the same PrimusError on both sides', async () => {
    const server = await start();
    const client = server.client({ manual: true });
    const attempts: [string, unknown][] = [
      ['sideways', () => {}],
      ['incoming', 'not a function'],
    ];
    for (const [type, fn] of attempts) {
      const errors = [() => server.primus.transform(type as never, fn as never), () => client.transform(type as never, fn as never)].map((add) => {
        try {
          add();
        } catch (err) {
          return err as CodedError;
        }
        return undefined;
      });
      expect(errors[0]).toBeInstanceOf(PrimusError);
      expect(errors[1]).toBeInstanceOf(PrimusError);
      expect(errors[1]).toMatchObject({ code: 'PRIMUS_ERR_TRANSFORM_TYPE', message: errors[0]!.message });
    }
  });

  it('a message transformer added twice runs once per message, on both sides', async () => {
    const server = await start();
    const calls: string[] = [];
    const tag = function (this: unknown, packet: { data: unknown }) {
      calls.push(String(packet.data));
    };
    server.primus.transform('incoming', tag);
    server.primus.transform('incoming', tag);
    const sparkReady = nextSpark(server.primus);
    const client = server.client();
    client.transform('incoming', tag);
    client.transform('incoming', tag);
    await once(client, 'open');
    const spark = await sparkReady;

    const serverData = once(spark, 'data');
    client.write('up');
    await serverData;
    const clientData = once(client, 'data');
    spark.write('down');
    await clientData;
    expect(calls).toEqual(['up', 'down']);
  });

  it('a message whose incoming transformers finish after the side closed is not delivered, on either side', async () => {
    // An asynchronous transformer held open until the test releases it; a second one marks the
    // moment the chain completes (delivery happens right after it, in the same call).
    const held = () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      let finished!: () => void;
      const done = new Promise<void>((resolve) => (finished = resolve));
      return {
        release,
        inside,
        done,
        wait: async () => {
          entered();
          await gate;
        },
        mark: () => {
          queueMicrotask(finished);
        },
      };
    };

    const server = await start();
    const atServer = held();
    server.primus.transform('incoming', async () => atServer.wait());
    server.primus.transform('incoming', () => atServer.mark());
    const sparkReady = nextSpark(server.primus);
    const client = server.client();
    const atClient = held();
    client.transform('incoming', async () => atClient.wait());
    client.transform('incoming', () => atClient.mark());
    await once(client, 'open');
    const spark = await sparkReady;

    const sparkData: unknown[] = [];
    spark.on('data', (data: unknown) => sparkData.push(data));
    client.write('late for the server');
    await atServer.inside;
    spark.end(undefined, { reconnect: true });
    atServer.release();
    await atServer.done;
    expect(sparkData).toEqual([]);

    // A new connection for the other direction: the client reconnects after that end.
    const nextReady = nextSpark(server.primus);
    await once(client, 'open');
    const next = await nextReady;
    const clientData: unknown[] = [];
    client.on('data', (data: unknown) => clientData.push(data));
    next.write('late for the client');
    await atClient.inside;
    client.end();
    atClient.release();
    await atClient.done;
    expect(clientData).toEqual([]);
  });
});
