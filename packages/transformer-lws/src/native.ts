import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { LwsError } from './errors';

/** An opaque handle on one libwebsockets context (one per Primus server). */
export type NativeHandle = { readonly __brand: 'PrimusLwsHandle' };

/** Options the binding reads when it creates a server (a vhost). */
export interface NativeOptions {
  /** The vhost's name, unique in the process; adopted requests carry it as their Host header. */
  name: string;
  compression: boolean;
  maxLength: number;
  highWaterMark: number;
  maxBufferedAmount: number;
  /** Queued bytes above which `send()`'s result says to hold off; a DRAIN event follows once the queue is empty. */
  writeMark: number;
  /** The largest request header block to accept; the first server's value sets it for all. */
  maxHeaderSize: number;
}

/**
 * Receives what the connections did since the last call: `count` events as `[type, id]` pairs in
 * `events`, and, in the same order, the value of each event that has one (TEXT and BINARY: the
 * message; ERROR: its code) in `values`. `events` is only valid during the call.
 */
export type NativeDispatch = (events: Float64Array, count: number, values: unknown[]) => void;

/**
 * Event types in a dispatched batch. PING: the connection answered a WebSocket ping frame.
 * DRAIN: the queue of a connection whose `send()` went above `writeMark` is empty again.
 */
export const EVENT = { OPEN: 1, TEXT: 2, BINARY: 3, ERROR: 4, CLOSE: 5, PING: 6, DRAIN: 7 } as const;

/** What `adopt()` returns instead of an id when it took nothing over. */
export const ADOPT = { REFUSED: -1, NO_DESCRIPTOR: -2, NO_MEMORY: -3 } as const;

/** Results of `send()` other than the number of bytes queued. */
export const SEND = { DROPPED: -1, BUFFER_FULL: -2 } as const;

/** The native binding's API (native/binding.c). */
export interface NativeBinding {
  /** The libwebsockets version it is linked against. */
  readonly version: string;
  /**
   * Whether the binding checks incoming frame headers before libwebsockets parses them
   * (unmasked frames, oversized control frames, bad close frames); known once a server exists.
   */
  readonly checksFrames: boolean;
  create(options: NativeOptions, dispatch: NativeDispatch): NativeHandle;
  /**
   * Give libwebsockets a duplicate of `fd` and the request bytes; returns the connection id, or
   * one of `ADOPT` when nothing was taken over (the duplicate is closed then).
   * `protocol` is the subprotocol to confirm in the handshake response.
   */
  adopt(handle: NativeHandle, fd: number, request: Buffer, protocol?: string): number;
  /**
   * Queue and write the messages of one tick, for any number of connections: `ops` holds `count`
   * triples [connection id, index into `payloads`, result slot], in the order the messages were
   * sent; each payload is converted once however many connections it goes to. Each connection
   * written to gets the bytes now queued for it in `results[slot]` (above `writeMark`, DRAIN
   * follows once its queue is empty), or one of `SEND` when nothing more was queued.
   */
  write(handle: NativeHandle, ops: Float64Array, count: number, payloads: readonly (string | Uint8Array)[], results: Float64Array): void;
  /** Flush the queue, then close with `code`. */
  close(handle: NativeHandle, id: number, code: number): void;
  /** Drop the connection now, without a close handshake. */
  terminate(handle: NativeHandle, id: number): void;
  /** Close every connection and release the context. */
  destroy(handle: NativeHandle): void;
  stats(handle: NativeHandle): { connections: number; queuedBytes: number; paused: number };
  /** Bytes queued for one connection and not yet handed to the kernel (0 once it is gone). */
  buffered(handle: NativeHandle, id: number): number;
  /** Servers not yet torn down and vhosts not yet freed, in this thread. */
  diagnostics(): { servers: number; vhosts: number };
}

/** The package root: src/ and dist/ both sit one level below it. */
export const PACKAGE_ROOT = join(__dirname, '..');

let binding: NativeBinding | undefined;

/** The binding's path; PRIMUS_LWS_BINDING points at another build (an AddressSanitizer one, say). */
export function bindingPath(): string {
  return process.env.PRIMUS_LWS_BINDING || join(PACKAGE_ROOT, 'build', 'Release', 'primus_lws.node');
}

/**
 * Load the native binding. When it was never built (the package manager skipped the install
 * script), build it now, once; if that cannot work, the error says what to install.
 */
export function loadBinding(): NativeBinding {
  if (binding) return binding;
  const file = bindingPath();
  if (!existsSync(file)) {
    const script = join(PACKAGE_ROOT, 'scripts', 'build.cjs');
    const result = spawnSync(process.execPath, [script], { cwd: PACKAGE_ROOT, env: process.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (result.status !== 0 || !existsSync(file)) {
      const reason = (result.stderr || result.stdout || String(result.error ?? '')).trim().split('\n')[0];
      throw new LwsError('LWS_ERR_BINDING', reason || `@primus/transformer-lws: the native binding is missing; run "node ${script}"`);
    }
  }
  binding = createRequire(join(PACKAGE_ROOT, 'package.json'))(file) as NativeBinding;
  return binding;
}
