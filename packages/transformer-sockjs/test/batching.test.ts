import deflate from 'permessage-deflate';
import { batchingSuite } from '@primus/transformer-test-suite';
import sockjs from '../src';

const pin = (...transports: string[]): Record<string, unknown> => ({ transport: { transports } });

// The transformer corks a WebSocket session's TCP socket until the core's per-tick flush (22
// writes without it); polling sessions have no socket of their own to cork. sockjs-client's
// WebSocket, faye-websocket's Client, offers permessage-deflate only when given the extension.
batchingSuite({
  transformer: sockjs,
  client: pin('websocket'),
  compressionClient: { transport: { transports: ['websocket'], transportOptions: { websocket: { extensions: [deflate] } } } },
  polling: pin('xhr-polling'),
});
