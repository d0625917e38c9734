import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { ClientOptions, PrimusClient } from '@primus/client';
import { memoryPrimus, record, type MemoryTransport } from './memory-transport';

const created: PrimusClient[] = [];

function connected(options: ClientOptions = {}, config: Parameters<typeof memoryPrimus>[0] = {}): { client: PrimusClient; transport: MemoryTransport } {
  const { Primus, transport } = memoryPrimus(config);
  const client = new Primus('http://localhost:8080', options);
  created.push(client);
  jest.advanceTimersByTime(0);
  transport.last.accept();
  return { client, transport };
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

describe('client heartbeat', () => {
  it('sends primus::ping::<now> `ping` ms after open, and emits outgoing::ping with the same time', () => {
    const { client, transport } = connected({ ping: 1000 });
    const outgoing = jest.fn();
    client.on('outgoing::ping', outgoing);
    const opened = Date.now();

    jest.advanceTimersByTime(999);
    expect(transport.last.sent).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(transport.last.sent).toEqual([JSON.stringify(`primus::ping::${opened + 1000}`)]);
    expect(outgoing).toHaveBeenCalledWith(opened + 1000);
  });

  it('uses the compiled default of 25 s', () => {
    const { transport } = connected();
    jest.advanceTimersByTime(24999);
    expect(transport.last.pings).toHaveLength(0);
    jest.advanceTimersByTime(1);
    expect(transport.last.pings).toHaveLength(1);
  });

  it('pings `ping` ms after each pong rather than on a fixed interval', () => {
    const { transport } = connected({ ping: 1000, pong: 500 });
    jest.advanceTimersByTime(1000);
    const [first] = transport.last.pings;

    jest.advanceTimersByTime(300);
    transport.last.deliver(`primus::pong::${first}`);
    jest.advanceTimersByTime(999);
    expect(transport.last.pings).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(transport.last.pings).toHaveLength(2);
  });

  it('clears the pong timer on a pong and measures the latency against the pong value', () => {
    const { client, transport } = connected({ ping: 1000, pong: 500 });
    const offline = jest.fn();
    client.on('offline', offline);
    const incoming = jest.fn();
    client.on('incoming::pong', incoming);
    jest.advanceTimersByTime(1000);
    const [sent] = transport.last.pings;

    jest.advanceTimersByTime(42);
    transport.last.deliver(`primus::pong::${sent}`);
    expect(client.latency).toBe(42);
    expect(incoming).toHaveBeenCalledWith(sent);

    // past where the first pong timer would have fired, still short of the next ping's pong timer
    jest.advanceTimersByTime(1400);
    expect(offline).not.toHaveBeenCalled();
    expect(client.readyState).toBe(3);
  });

  it('sends one ping after several pongs in one interval: the timer is replaced, not appended to', () => {
    const { transport } = connected({ ping: 1000, pong: 500 });
    jest.advanceTimersByTime(200);
    transport.last.deliver(`primus::pong::${Date.now()}`);
    jest.advanceTimersByTime(200);
    transport.last.deliver(`primus::pong::${Date.now()}`);
    jest.advanceTimersByTime(200);
    transport.last.deliver(`primus::pong::${Date.now()}`);

    jest.advanceTimersByTime(999);
    expect(transport.last.pings).toHaveLength(0);
    jest.advanceTimersByTime(1);
    expect(transport.last.pings).toHaveLength(1);
  });

  it('does not count incoming data as a sign of life', () => {
    const { client, transport } = connected({ ping: 1000, pong: 500 });
    const offline = jest.fn();
    client.on('offline', offline);
    for (let i = 0; i < 15; i++) {
      jest.advanceTimersByTime(100);
      transport.last.deliver({ tick: i });
    }
    expect(transport.last.pings).toHaveLength(1);
    expect(offline).toHaveBeenCalledTimes(1);
  });

  it('treats a missing pong as a dead connection, in the happn-primus order', () => {
    const { client, transport } = connected({ ping: 1000, pong: 500 });
    const events = record(client, [
      'outgoing::ping',
      'offline',
      'incoming::end',
      'readyStateChange',
      'close',
      'end',
      'reconnect scheduled',
      'outgoing::reconnect',
      'outgoing::open',
      'outgoing::end',
      'reconnect',
      'online',
      'open',
    ]);
    jest.advanceTimersByTime(1000);
    expect(events).toEqual(['outgoing::ping']);
    jest.advanceTimersByTime(499);
    expect(events).toEqual(['outgoing::ping']);
    jest.advanceTimersByTime(1);
    expect(events).toEqual(['outgoing::ping', 'offline', 'incoming::end', 'readyStateChange:end', 'close', 'reconnect scheduled']);
    expect(client.online).toBe(false);

    events.length = 0;
    const dead = transport.last;
    jest.advanceTimersByTime(500);
    expect(events).toEqual(['outgoing::reconnect', 'outgoing::open', 'readyStateChange:opening', 'outgoing::end', 'reconnect']);
    expect(dead.closed).toBe(true);

    events.length = 0;
    transport.last.accept();
    expect(events).toEqual(['online', 'readyStateChange:open', 'open']);
    expect(client.online).toBe(true);
  });

  it('never pings with ping:false', () => {
    const { client, transport } = connected({ ping: false });
    jest.advanceTimersByTime(600000);
    expect(transport.last.sent).toEqual([]);
    expect(client.timers.size).toBe(0);
    expect(client.readyState).toBe(3);
  });

  it('has no heartbeat by default when the server compiled ping as false', () => {
    const { transport } = connected({}, { ping: false });
    jest.advanceTimersByTime(600000);
    expect(transport.last.pings).toEqual([]);
  });

  it('stops the heartbeat on end()', () => {
    const { client } = connected({ ping: 1000 });
    const pings = jest.fn();
    client.on('outgoing::ping', pings);
    client.end();
    expect(client.timers.size).toBe(0);
    jest.advanceTimersByTime(10000);
    expect(pings).not.toHaveBeenCalled();
    expect(client.buffer).toEqual([]);
  });
});
