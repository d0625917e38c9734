import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { ClientOptions, PrimusClient } from '@primus/client';
import { memoryPrimus, record, type MemoryTransport } from './memory-transport';

type Listener = () => void;

/** Just enough of a browser's global scope for the client's online/offline detection. */
class FakeWindow {
  readonly listeners = new Map<string, Set<Listener>>();

  addEventListener(event: string, fn: Listener): void {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)!.add(fn);
  }

  removeEventListener(event: string, fn: Listener): void {
    this.listeners.get(event)?.delete(fn);
  }

  count(event: string): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  fire(event: 'online' | 'offline'): void {
    for (const fn of [...(this.listeners.get(event) ?? [])]) fn();
  }
}

const globals = globalThis as { addEventListener?: unknown; removeEventListener?: unknown; navigator?: unknown };
let fakeWindow: FakeWindow;
let navigatorDescriptor: PropertyDescriptor | undefined;
const created: PrimusClient[] = [];

function connected(options: ClientOptions = {}): { client: PrimusClient; transport: MemoryTransport } {
  const { Primus, transport } = memoryPrimus();
  const client = new Primus('http://localhost:8080', options);
  created.push(client);
  jest.advanceTimersByTime(0);
  transport.last.accept();
  return { client, transport };
}

beforeEach(() => {
  jest.useFakeTimers();
  jest.spyOn(Math, 'random').mockReturnValue(0);
  fakeWindow = new FakeWindow();
  // A page's global scope is its window: the client listens there.
  globals.addEventListener = fakeWindow.addEventListener.bind(fakeWindow);
  globals.removeEventListener = fakeWindow.removeEventListener.bind(fakeWindow);
  navigatorDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value: { onLine: true }, configurable: true, writable: true });
});

afterEach(() => {
  for (const client of created.splice(0)) client.destroy();
  delete globals.addEventListener;
  delete globals.removeEventListener;
  if (navigatorDescriptor) Object.defineProperty(globalThis, 'navigator', navigatorDescriptor);
  else delete globals.navigator;
  jest.useRealTimers();
  jest.restoreAllMocks();
});

describe('browser network events', () => {
  it('emits offline and ends when the browser goes offline', () => {
    const { client, transport } = connected();
    const events = record(client, ['offline', 'close', 'end', 'reconnect scheduled']);
    fakeWindow.fire('offline');
    expect(events).toEqual(['offline', 'close', 'end']);
    expect(client.online).toBe(false);
    expect(client.readyState).toBe(2);
    expect(transport.last.closed).toBe(true);
    jest.advanceTimersByTime(120000);
    expect(transport.connections).toHaveLength(1);
  });

  it('emits online and reconnects when the browser comes back (strategy online)', () => {
    const { client, transport } = connected();
    fakeWindow.fire('offline');
    const events = record(client, ['online', 'reconnect scheduled', 'reconnect', 'reconnected', 'open']);
    fakeWindow.fire('online');
    expect(events).toEqual(['online', 'reconnect scheduled']);
    jest.advanceTimersByTime(500);
    transport.last.accept();
    expect(events).toEqual(['online', 'reconnect scheduled', 'reconnect', 'reconnected', 'open']);
    expect(transport.connections).toHaveLength(2);
  });

  it('only emits online when the strategy has no online', () => {
    const { client, transport } = connected({ strategy: 'disconnect,timeout' });
    fakeWindow.fire('offline');
    const events = record(client, ['online', 'reconnect scheduled']);
    fakeWindow.fire('online');
    jest.advanceTimersByTime(120000);
    expect(events).toEqual(['online']);
    expect(transport.connections).toHaveLength(1);
  });

  it('starts offline when navigator.onLine says so, and comes online when it connects', () => {
    (globals.navigator as { onLine: boolean }).onLine = false;
    const { Primus, transport } = memoryPrimus();
    const client = new Primus('http://localhost:8080', { manual: true });
    created.push(client);
    expect(client.online).toBe(false);
    const events = record(client, ['online', 'open']);
    client.open();
    transport.last.accept();
    expect(events).toEqual(['online', 'open']);
    expect(client.online).toBe(true);
  });

  it('ignores the browser with network:false', () => {
    const { client, transport } = connected({ network: false });
    expect(fakeWindow.count('offline')).toBe(0);
    const events = record(client, ['offline', 'end']);
    fakeWindow.fire('offline');
    expect(events).toEqual([]);
    expect(client.readyState).toBe(3);
    expect(transport.last.closed).toBe(false);
  });

  it('removes its online and offline listeners on destroy()', () => {
    const { client } = connected();
    expect(fakeWindow.count('offline')).toBe(1);
    expect(fakeWindow.count('online')).toBe(1);
    client.destroy();
    expect(fakeWindow.count('offline')).toBe(0);
    expect(fakeWindow.count('online')).toBe(0);
  });
});
