// Type test (compiled, never run): the client's events and options as a user's project sees them.
// A line after `// @ts-expect-error <code>` must fail with that TypeScript error code;
// test/types.test.ts checks it against the built declarations.
import { compile, Primus, type AttemptDone, type ClientOptions, type PrimusClient, type PrimusConstructor, type ReconnectAttempt, type UriOptions } from '@primus/client';

// Events and an option of your own, declared as the README documents.
declare module '@primus/client' {
  interface ClientCustomEvents {
    news: (headline: string, urgent: boolean) => void;
  }
  interface ClientOptions {
    rooms?: string[];
  }
}

const primus: PrimusClient = new Primus('https://example.com', { manual: true });

// The client's own events, each with its listener.
primus.on('open', () => undefined);
primus.on('data', (data: unknown, raw: unknown) => [data, raw]);
primus.on('error', (err: Error) => err.message);
primus.on('end', () => undefined);
primus.on('close', () => undefined);
primus.on('timeout', () => undefined);
primus.on('online', () => undefined);
primus.on('offline', () => undefined);
primus.on('destroy', () => undefined);
primus.on('readyStateChange', (state) => state === 'open' || state === 'opening' || state === 'end');
primus.on('reconnect scheduled', (attempt: ReconnectAttempt) => attempt.scheduled);
primus.on('reconnect', (attempt: ReconnectAttempt, done: AttemptDone) => [attempt.attempt, done]);
primus.on('reconnected', (attempt: ReconnectAttempt) => attempt.duration);
primus.on('reconnect timeout', (err: Error, attempt: ReconnectAttempt) => [err, attempt]);
primus.on('reconnect failed', (err: Error, attempt: ReconnectAttempt) => [err, attempt]);
primus.on('outgoing::url', (options: UriOptions) => options);
primus.on('outgoing::open', () => undefined);
primus.on('outgoing::data', (payload: unknown) => payload);
primus.on('outgoing::end', () => undefined);
primus.on('outgoing::reconnect', () => undefined);
primus.on('outgoing::ping', (time: number) => time);
primus.on('incoming::open', () => undefined);
primus.on('incoming::data', (raw: unknown) => raw);
primus.on('incoming::error', (err: unknown) => err);
primus.on('incoming::end', () => undefined);
primus.on('incoming::pong', (time: number) => time);
primus.on('incoming::id', (id: string) => id.length);
primus.once('end', () => undefined);
primus.off('data');
const opened = new Promise<void>((resolve) => primus.once('open', resolve));
void opened;

// @ts-expect-error 2345 a misspelt event
primus.on('opne', () => undefined);
// @ts-expect-error 2345 a misspelt event
primus.once('reconnect-scheduled', () => undefined);
// @ts-expect-error 2345 a server event on the client
primus.on('connection', () => undefined);
// @ts-expect-error 2345 the wrong listener: `readyStateChange` gives a state name
primus.on('readyStateChange', (state: number) => state);
// @ts-expect-error 2345 the wrong listener: `reconnect timeout` gives the error first
primus.on('reconnect timeout', (attempt: ReconnectAttempt) => attempt);
// @ts-expect-error 2345 a misspelt event emitted
primus.emit('dtaa', 1);

// Custom events: typed once declared.
primus.on('news', (headline, urgent) => (urgent ? headline.toUpperCase() : headline));
primus.emit('news', 'hello', false);
// @ts-expect-error 2345 a custom event's arguments are checked too
primus.emit('news', 'hello', 'yes');

// A name known only at run time goes through `emits()`.
declare const fromTheWire: string;
primus.emits(fromTheWire)('payload');

// Options.
new Primus('https://example.com', { manual: true, reconnect: { retries: 3, 'reconnect timeout': 5000 }, strategy: ['online'], ping: false });
new Primus({ url: 'https://example.com', transport: { anything: 'goes to the framework' } });
Primus.connect('https://example.com', { rooms: ['lobby'] });
const Socket: PrimusConstructor = compile({ transport: { name: 'custom', connect: () => ({ send() {}, close() {} }) }, parser: { encode: JSON.stringify, decode: JSON.parse } });
Socket('https://example.com', { queueSize: 10 });
const given: ClientOptions = { pong: 5000 };
new Socket(given);

// @ts-expect-error 2561 a misspelt option
new Primus('https://example.com', { manaul: true });
// @ts-expect-error 2561 a misspelt option in the options-only form
new Primus({ url: 'https://example.com', queuSize: 1 });
// @ts-expect-error 2353 a misspelt option of connect()
Primus.connect('https://example.com', { pnig: 1000 });
// @ts-expect-error 2353 a misspelt option of a compiled class called without new
Socket('https://example.com', { stragety: 'online' });
// @ts-expect-error 2561 a misspelt back-off setting
new Primus('https://example.com', { reconnect: { retires: 3 } });
// @ts-expect-error 2322 an option of the wrong type
new Primus('https://example.com', { timeout: '10s' });
// @ts-expect-error 2561 a misspelt option of a plugin's own
new Primus('https://example.com', { room: ['lobby'] });
