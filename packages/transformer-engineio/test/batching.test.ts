import { batchingSuite } from '@primus/transformer-test-suite';
import engineio from '../src';

const pin = (...transports: string[]): Record<string, unknown> => ({ transport: { transports } });

// The transformer corks the TCP socket under engine.io's WebSocket transport until the core's
// per-tick flush. engine.io hands `ws` the first packet of a burst at once and the rest once that
// one is written, so a tick's frames leave in two writes (22 without the cork).
batchingSuite({ transformer: engineio, client: pin('websocket'), polling: pin('polling'), writesPerTick: 2 });
