import { defineTransformer, type Transformer, type TransformerContext } from '@primus/core/contract';
import { browser, client } from './client';
import { createServer, DEFAULTS, type LwsOptions, type LwsService } from './server';

export { LwsError, LwsService, DEFAULTS, type LwsErrorCode, type LwsOptions } from './server';

/** The lws transformer's type: `server()` returns an `LwsService`. */
export interface LwsTransformer extends Transformer {
  server(context: TransformerContext): LwsService;
}

function checkInteger(options: LwsOptions, name: keyof LwsOptions, min: number, max: number): void {
  const value = options[name];
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const err = new TypeError(`Primus lws transformer: option "${name}" must be an integer from ${min} to ${max}, got ${String(value)}`) as TypeError & { code: string };
    err.code = 'PRIMUS_ERR_INVALID_OPTION';
    throw err;
  }
}

/**
 * An lws transformer with its own options (the default export uses the defaults):
 * `new Primus(server, { transformer: createLwsTransformer({ highWaterMark: 4 << 20 }) })`.
 */
export function createLwsTransformer(options: LwsOptions = {}): LwsTransformer {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`Primus lws transformer: options must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  checkInteger(options, 'highWaterMark', 1, 2 ** 40);
  checkInteger(options, 'maxBufferedAmount', 1, 2 ** 40);
  checkInteger(options, 'closeTimeout', 0, 2 ** 31 - 1);
  const resolved: Required<LwsOptions> = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as (keyof LwsOptions)[]) if (options[key] !== undefined) resolved[key] = options[key]!;
  return defineTransformer({
    name: 'lws',
    server: (context: TransformerContext) => createServer(context, resolved),
    client,
    browser,
  });
}

/**
 * The lws transformer: libwebsockets (through a small native binding, on Node's own event loop)
 * on the server, `ws` in Node clients and the native WebSocket in browsers.
 * `new Primus(server, { transformer: 'lws' })` loads it by name.
 */
export const lws: LwsTransformer = createLwsTransformer();

export default lws;
