import { EventEmitter } from 'eventemitter3';
import { invalidValue, optionalObject, parseDuration, PrimusError } from './errors';
import { Timers } from './timers';

/** True in the primus.js builds: see client.ts. */
declare const PRIMUS_BROWSER: boolean | undefined;

/** Reconnect back-off settings (`options.reconnect`). */
export interface ReconnectOptions {
  /** Delay before the first attempt, and the base of the back-off, in ms. @default 500 */
  min: number;
  /** Upper bound of any delay, in ms. @default Infinity */
  max: number;
  /** Attempts before giving up with `reconnect failed`. @default 10 */
  retries: number;
  /** Growth of the delay per attempt. @default 2 */
  factor: number;
  /** How long one attempt may take before it counts as failed, in ms. @default 30000 */
  'reconnect timeout': number;
}

/** The state of the reconnect in progress, passed to every reconnect event. */
export interface ReconnectAttempt extends ReconnectOptions {
  /** When the first attempt of this run was scheduled (ms since epoch). */
  start: number;
  /** Milliseconds since `start`. */
  duration: number;
  /** The attempt number, from 1. */
  attempt: number;
  /** True while waiting for the scheduled delay. */
  backoff: boolean;
  /** The delay of the current attempt in ms. */
  scheduled: number;
}

/** Settles one reconnect attempt: no argument for success, an error for failure. */
export type AttemptDone = (err?: Error) => void;

/** Events of the back-off machinery; the client re-emits them under the same names. */
export interface RecoveryEvents {
  'reconnect scheduled': (attempt: ReconnectAttempt) => void;
  reconnect: (attempt: ReconnectAttempt, done: AttemptDone) => void;
  reconnected: (attempt: ReconnectAttempt) => void;
  'reconnect timeout': (err: Error, attempt: ReconnectAttempt) => void;
  'reconnect failed': (err: Error, attempt: ReconnectAttempt) => void;
}

/** Where a `Recovery` sends its events. */
export type RecoveryEmit = <E extends keyof RecoveryEvents>(event: E, ...args: Parameters<RecoveryEvents[E]>) => void;

/** The reconnect defaults from happn-primus 6.0.1. */
export const RECONNECT_DEFAULTS: Readonly<ReconnectOptions> = Object.freeze({
  min: 500,
  max: Infinity,
  retries: 10,
  factor: 2,
  'reconnect timeout': 30000,
});

/** Validate and complete `options.reconnect`; throws a TypeError naming the bad option. */
export function reconnectOptions(options?: Partial<Record<keyof ReconnectOptions, unknown>>): ReconnectOptions {
  const input = optionalObject('options.reconnect', options);
  const result = { ...RECONNECT_DEFAULTS };
  for (const key of Object.keys(RECONNECT_DEFAULTS) as (keyof ReconnectOptions)[]) {
    if (input[key] === undefined) continue;
    const value = parseDuration(input[key]);
    if (!(value >= 0)) {
      const name = key.includes(' ') ? `options.reconnect['${key}']` : `options.reconnect.${key}`;
      throw invalidValue(name, 'a non-negative number or duration', input[key]);
    }
    result[key] = value;
  }
  if (result.factor < 1) throw invalidValue('options.reconnect.factor', 'at least 1', result.factor);
  return result;
}

/**
 * Randomised exponential back-off. Attempt 1 waits exactly `min`; attempt n waits
 * `(1 + random) * min * factor^(n-1)`, capped at `max`; after `retries` attempts it gives up.
 */
export class Recovery extends EventEmitter<RecoveryEvents> {
  /** The reconnect in progress, or null. */
  attempt: ReconnectAttempt | null = null;
  private readonly _options: ReconnectOptions;
  private readonly _timers = new Timers();
  private _pending: AttemptDone | null = null;
  private readonly _emit: RecoveryEmit;

  /**
   * `emit` receives every event instead of this emitter's listeners: the client passes its own,
   * so the back-off's events are the client's without a forwarding listener per event.
   */
  constructor(options?: Partial<ReconnectOptions>, emit?: RecoveryEmit) {
    super();
    this._options = reconnectOptions(options);
    // In primus.js the client is the only caller, and it always passes its emit.
    this._emit = typeof PRIMUS_BROWSER !== 'undefined' ? emit! : emit || ((event, ...args) => (this.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args));
  }

  /** True while a reconnect is scheduled or in flight. */
  reconnecting(): boolean {
    return this.attempt !== null;
  }

  /** Schedule the next attempt of the current run, or start a run. */
  reconnect(): this {
    return this.backoff(this._onScheduled, this.attempt || undefined);
  }

  /**
   * Schedule `fn` after the back-off delay for `attempt`. A second call while the delay runs does
   * nothing, so the attempt count is not inflated.
   */
  backoff(fn: (err: Error | undefined, attempt: ReconnectAttempt) => void, attempt?: Partial<ReconnectAttempt>): this {
    const opts = (attempt || {}) as Record<string, unknown> & ReconnectAttempt;
    if (opts.backoff) return this;
    const defaults: Record<string, unknown> = { ...this._options, attempt: 0, start: Date.now(), duration: 0 };
    for (const key in defaults) if (opts[key] == null) opts[key] = defaults[key];

    // A newer schedule supersedes the previous attempt's timeout and completion; happn-primus
    // left them armed, and a late timeout could cancel the freshly scheduled attempt.
    this._timers.clear('timeout');
    this._pending = null;

    if (opts.attempt >= opts.retries) {
      fn.call(this, new PrimusError('PRIMUS_ERR_RECONNECT_FAILED', 'Unable to recover'), opts);
      return this;
    }
    opts.backoff = true;
    opts.attempt += 1;
    opts.scheduled = opts.attempt === 1 ? opts.min : Math.min(Math.round((Math.random() + 1) * opts.min * opts.factor ** (opts.attempt - 1)), opts.max);
    this.attempt = opts;
    this._timers.set(
      'reconnect',
      () => {
        opts.duration = Date.now() - opts.start;
        opts.backoff = false;
        fn.call(this, undefined, opts);
      },
      opts.scheduled,
    );
    this._emit('reconnect scheduled', opts);
    return this;
  }

  /** Settle the attempt in flight: no argument when it connected, the error when it failed. */
  reconnected(err?: Error): this {
    if (this._pending) this._pending(err);
    return this;
  }

  /** Forget the run in progress and cancel its timers. */
  reset(): this {
    this.attempt = null;
    this._pending = null;
    this._timers.clearAll();
    return this;
  }

  /** Cancel everything and drop listeners. */
  destroy(): void {
    this.reset();
    this.removeAllListeners();
  }

  private _onScheduled = (err: Error | undefined, opts: ReconnectAttempt): void => {
    if (err) {
      this.reset();
      this._emit('reconnect failed', err, opts);
      return;
    }
    const done: AttemptDone = (failure) => {
      if (this._pending !== done) return;
      this.reset();
      if (failure) {
        this.backoff(this._onScheduled, opts);
        return;
      }
      this._emit('reconnected', opts);
    };
    this._pending = done;
    this.attempt = opts;
    this._timers.set(
      'timeout',
      () => {
        const timeout = new PrimusError('PRIMUS_ERR_RECONNECT_TIMEOUT', 'Failed to reconnect in a timely manner');
        this._emit('reconnect timeout', timeout, opts);
        done(timeout);
      },
      opts['reconnect timeout'],
    );
    this._emit('reconnect', opts, done);
  };
}
