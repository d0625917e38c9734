import type { Server as HttpServer } from 'node:http';
import type { DrainOptions } from './contract';

/** Options of `destroy()`. */
export interface DestroyOptions {
  /** Close the HTTP server too. @default true */
  close?: boolean;
  /** End sparks without `primus::server::close`, so clients reconnect (implies `close`). @default false */
  reconnect?: boolean;
  /** Wait this many ms first. @default 0 */
  timeout?: number;
}

/** The steps of a server's shutdown, in the order `Shutdown` takes them. */
export interface ShutdownSteps {
  /** End every spark; `reconnect` leaves out `primus::server::close`. */
  endSparks(reconnect: boolean): void;
  /** The HTTP server to close, when there is one. */
  server(): HttpServer | null;
  /** The transformer's `drain()`, while requests are still routed to it. */
  drain(options: DrainOptions): void | Promise<void>;
  /** Run the server's `close` listeners, then `done(err)`. */
  emitClose(options: DestroyOptions, done: (err?: Error) => void): void;
  /** Give the HTTP server back its own listeners. */
  unhook(): void;
  /** The transformer's `close()`. */
  release(): void | Promise<void>;
  /** Forget sparks, plugins and listeners. */
  reset(): void;
  /** Report an error of a step that does not stop the shutdown. */
  log(err: unknown): void;
}

/**
 * `primus.destroy()`: end every spark, close the HTTP server unless `close: false`, let the
 * transformer drain, run the `close` listeners, restore the server's listeners and release the
 * transformer. Later calls wait for the same shutdown; calls after it finished call back at once.
 */
export class Shutdown {
  private callbacks: Array<(err?: Error) => void> | null = null;
  private done = false;

  constructor(private readonly steps: ShutdownSteps) {}

  /** Whether a shutdown has started and not finished. */
  get running(): boolean {
    return this.callbacks !== null;
  }

  /** Whether the shutdown has finished. */
  get finished(): boolean {
    return this.done;
  }

  /** Start (or join) the shutdown; `callback(err)` runs once it finished. */
  start(options: DestroyOptions, callback: (err?: Error) => void): void {
    const opts: DestroyOptions = { ...options };
    if (opts.reconnect) opts.close = true;
    if (this.done) {
      process.nextTick(callback);
      return;
    }
    if (this.callbacks) {
      this.callbacks.push(callback);
      return;
    }
    this.callbacks = [callback];
    if (opts.timeout) setTimeout(() => this.run(opts), opts.timeout);
    else this.run(opts);
  }

  private run(options: DestroyOptions): void {
    this.steps.endSparks(!!options.reconnect);
    const server = this.steps.server();
    if (options.close === false || !server || typeof server.close !== 'function') {
      this.drain(options);
      return;
    }
    let closed = false;
    const next = (): void => {
      if (closed) return;
      closed = true;
      this.drain(options);
    };
    try {
      server.close(() => next());
      server.closeIdleConnections?.();
    } catch {
      next();
    }
  }

  /** Clients between two polls collect what their ended sparks sent last, while requests are still routed. */
  private drain(options: DestroyOptions): void {
    let draining: void | Promise<void> = undefined;
    try {
      draining = this.steps.drain({ close: options.close !== false });
    } catch (err) {
      this.steps.log(err);
    }
    if (draining && typeof draining.then === 'function') {
      draining.then(
        () => this.close(options),
        (err: unknown) => (this.steps.log(err), this.close(options)),
      );
    } else {
      this.close(options);
    }
  }

  private close(options: DestroyOptions): void {
    this.steps.emitClose(options, (err) => {
      this.steps.unhook();
      const finish = (): void => {
        this.done = true;
        this.steps.reset();
        const callbacks = this.callbacks ?? [];
        this.callbacks = null;
        for (const callback of callbacks) callback(err);
      };
      let releasing: void | Promise<void> = undefined;
      try {
        releasing = this.steps.release();
      } catch (e) {
        this.steps.log(e);
      }
      if (releasing && typeof releasing.then === 'function') releasing.then(finish, (e: unknown) => (this.steps.log(e), finish()));
      else finish();
    });
  }
}
