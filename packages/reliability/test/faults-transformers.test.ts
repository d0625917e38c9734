import browserchannel from '@primus/transformer-browserchannel';
import faye from '@primus/transformer-faye';
import sockjs from '@primus/transformer-sockjs';
import { faultSuite } from './fault-suite';

// socket.io runs in faults-socketio.test.ts, so each file stays well under a minute.
faultSuite([
  { transformer: sockjs, clients: 200, heartbeatFromQuery: true },
  { transformer: faye, clients: 200, heartbeatFromQuery: true },
  // BrowserChannel's restart under 200 long-polling clients takes longer than this file may; its
  // heartbeat scenarios run (its client carries ping/pong in BrowserChannel's extra parameters).
  { transformer: browserchannel, clients: 0, heartbeatFromQuery: true },
]);
