import faye from '../../transformer-faye/src';
import sockjs from '../../transformer-sockjs/src';
import { faultSuite } from './fault-suite';

// socket.io runs in faults-socketio.test.ts, so each file stays well under a minute.
faultSuite([
  // The restart scenario fails on sockjs like on engine.io (outage writes not seen exactly once).
  { transformer: sockjs, clients: 0, heartbeatFromQuery: true },
  { transformer: faye, clients: 200, heartbeatFromQuery: true },
]);

// Not run on browserchannel: its client sends no connect query, so the server cannot learn a short
// heartbeat and keeps the 25 s / 10 s default (the heartbeat scenarios would take minutes), and its
// restart scenario did not complete within 30 s under 200 long-polling clients.
