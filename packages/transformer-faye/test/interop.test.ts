import Faye from 'faye-websocket';
import { describe, expect, it } from '@jest/globals';
import { happnInterop, interopSuite, once, waitFor } from '@primus/transformer-test-suite';
import { implementations, startHappn, startOurs } from './happn';

// Wire compatibility with happn-primus 6.0.1's faye transformer: its client against our server,
// our client against its server, and both servers compared frame by frame.

const TIMEOUT = 20000;
const { nextSpark, samples, wire } = happnInterop;

interopSuite({
  ...implementations,
  tests({ server, connect }) {
    it(
      'passes options.transport to faye-websocket: custom headers reach spark.headers',
      async () => {
        const target = await server();
        const sparkP = nextSpark(target);
        connect(target, { transport: { headers: { 'x-custom': 'both ways' } } });
        const spark = await sparkP;
        expect(spark.headers['x-custom']).toBe('both ways');
        expect(spark.address.ip).toBe('127.0.0.1');
      },
      TIMEOUT,
    );
  },
});

describe('the same frames on the wire', () => {
  const defer = happnInterop.useCleanups();

  /** Talk to a server through a bare faye-websocket Client and record every frame it sends. */
  async function serverFrames(start: () => Promise<happnInterop.Server>): Promise<{ frames: string[]; id: string; code: number }> {
    const target = await start();
    defer(() => target.close());
    const sparkP = nextSpark(target);
    const socket = new Faye.Client(`${target.url.replace('http:', 'ws:')}/primus?_primuscb=Q8Nog6x&ping=60000&pong=10000`);
    defer(() => socket.close());
    const frames: string[] = [];
    socket.on('message', (event: Faye.MessageEvent) => frames.push(typeof event.data === 'string' ? event.data : '<binary>'));
    await once(socket, 'open');
    const spark = await sparkP;
    for (const sample of samples) spark.write(sample);
    await waitFor(() => frames.length === samples.length, 5000, 'the samples');
    socket.send('"primus::ping::1496913600000"');
    await waitFor(() => frames.length === samples.length + 1, 5000, 'the pong');
    socket.send('"primus::id::"');
    await waitFor(() => frames.length === samples.length + 2, 5000, 'the id');
    const closed = once<[Faye.CloseEvent]>(socket, 'close');
    spark.end();
    const [{ code }] = await closed;
    return { frames, id: spark.id, code };
  }

  it(
    'both servers send identical frames for data, pong, id and server close, then close with 1000',
    async () => {
      const happn = await serverFrames(startHappn);
      const ours = await serverFrames(startOurs);
      const expected = [...samples.map(wire), '"primus::pong::1496913600000"', expect.any(String), '"primus::server::close"'];
      expect(happn.frames).toEqual(expected);
      expect(ours.frames).toEqual(expected);
      expect(happn.frames[samples.length + 1]).toBe(JSON.stringify(`primus::id::${happn.id}`));
      expect(ours.frames[samples.length + 1]).toBe(JSON.stringify(`primus::id::${ours.id}`));
      expect(happn.code).toBe(1000);
      expect(ours.code).toBe(1000);
    },
    TIMEOUT,
  );
});
