import { json } from '@primus/parser-json';
import { compile, type ClientConfig, type ClientTransport, type PrimusConstructor, type TransportConnection, type TransportEvents, type TransportHost } from '@primus/client';

/**
 * One connection of the in-memory transport. The test plays the server: `accept()` opens it,
 * `deliver()` sends a message, `fail()` reports a transport error and `drop()` closes it.
 */
export class MemoryConnection implements TransportConnection {
  /** Encoded payloads the client sent, oldest first. */
  readonly sent: unknown[] = [];
  /** The URL the client asked this transport to connect to. */
  readonly url: string;
  closed = false;
  id?: string;
  readonly socket = { kind: 'memory socket' };

  constructor(
    host: TransportHost,
    private readonly events: TransportEvents,
  ) {
    this.url = host.uri({ protocol: 'ws:', query: true }) as string;
  }

  send(payload: string | ArrayBuffer | Uint8Array): void {
    // Like a WebSocket that is no longer open: the payload goes nowhere.
    if (this.closed) return;
    this.sent.push(payload);
  }

  close(): void {
    this.closed = true;
  }

  /** What the client sent, decoded with the JSON parser. */
  get messages(): unknown[] {
    return this.sent.map((payload) => JSON.parse(payload as string));
  }

  /** The `primus::ping::<time>` messages the client sent, as their times. */
  get pings(): number[] {
    return this.messages.filter((m): m is string => typeof m === 'string' && m.startsWith('primus::ping::')).map((m) => +m.slice(14));
  }

  accept(): void {
    this.events.open();
  }

  /** Send `data` to the client, encoded as the JSON parser would put it on the wire. */
  deliver(data: unknown): void {
    this.events.data(JSON.stringify(data));
  }

  /** Send an already encoded frame. */
  deliverRaw(raw: unknown): void {
    this.events.data(raw);
  }

  fail(err: unknown = new Error('connection refused')): void {
    this.events.error(err);
  }

  drop(): void {
    this.events.end();
  }
}

/** A client transport that keeps its connections in memory for the test to drive. */
export class MemoryTransport implements ClientTransport {
  readonly name = 'memory';
  readonly connections: MemoryConnection[] = [];
  /** Set before a connect to give the next connection a framework id (like engine.io's sid). */
  nextId: string | undefined;

  connect(host: TransportHost, events: TransportEvents): TransportConnection {
    const connection = new MemoryConnection(host, events);
    if (this.nextId !== undefined) connection.id = this.nextId;
    this.connections.push(connection);
    return connection;
  }

  /** The most recent connection; fails the test when there is none. */
  get last(): MemoryConnection {
    const connection = this.connections[this.connections.length - 1];
    if (!connection) throw new Error('the client has not connected yet');
    return connection;
  }
}

/** A client class over a fresh in-memory transport with the JSON parser. */
export function memoryPrimus(config: Partial<Omit<ClientConfig, 'transport' | 'parser'>> = {}): { Primus: PrimusConstructor; transport: MemoryTransport } {
  const transport = new MemoryTransport();
  const Primus = compile({ ...config, transport, parser: json });
  return { Primus, transport };
}

/**
 * Record the given events of `emitter` in order. `readyStateChange` is recorded with its state
 * (`readyStateChange:open`) so sequences read like the behaviour notes.
 */
export function record(emitter: { on(event: string, fn: (...args: any[]) => void): unknown }, events: readonly string[]): string[] {
  const seen: string[] = [];
  for (const event of events) {
    emitter.on(event, (...args: unknown[]) => {
      seen.push(event === 'readyStateChange' ? `${event}:${String(args[0])}` : event);
    });
  }
  return seen;
}
