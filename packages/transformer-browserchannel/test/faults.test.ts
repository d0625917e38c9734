import { faultSuite } from '@primus/transformer-test-suite';
import browserchannel from '../src';

// Server restart under 200 clients, blackhole and waylaid pings, through the suite's fault proxy.
// BrowserChannel opens a session with a forward-channel POST, then a back-channel long-poll, so
// 200 clients reconnecting at once keep a loaded machine busy for seconds. With the 2 s reconnect
// timeout of the other transformers a client sometimes gave up on an attempt the server had
// already accepted; the half-made session then stays until BrowserChannel's own session timeout
// and the new server sees that client twice. A longer timeout lets each attempt finish.
faultSuite({ transformer: browserchannel, clients: 200, reconnectTimeout: 10_000 });
