import { defineTransformer, optionChecker, type OptionChecker, type Transformer, type TransformerContext } from '@primus/core/contract';
import { browser, client } from './client';
import { createServer, DEFAULTS, type LwsOptions, type LwsService } from './server';

export { LwsError, type LwsErrorCode } from './errors';
export { LwsService, DEFAULTS, type LwsOptions } from './server';

/** The lws transformer's type: `server()` returns an `LwsService`. */
export interface LwsTransformer extends Transformer {
  server(context: TransformerContext): LwsService;
}

const check: OptionChecker = optionChecker('@primus/transformer-lws');

/**
 * An lws transformer with its own options (the default export uses the defaults):
 * `new Primus(server, { transformer: createLwsTransformer({ highWaterMark: 4 << 20 }) })`.
 */
export function createLwsTransformer(options: LwsOptions = {}): LwsTransformer {
  const given = check.options(options);
  const resolved: Required<LwsOptions> = {
    highWaterMark: check.integer('highWaterMark', given.highWaterMark, { min: 1, max: 2 ** 40, unit: 'bytes', default: DEFAULTS.highWaterMark }),
    maxBufferedAmount: check.integer('maxBufferedAmount', given.maxBufferedAmount, { min: 1, max: 2 ** 40, unit: 'bytes', default: DEFAULTS.maxBufferedAmount }),
    closeTimeout: check.integer('closeTimeout', given.closeTimeout, { min: 0, max: 2 ** 31 - 1, unit: 'ms', default: DEFAULTS.closeTimeout }),
  };
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
