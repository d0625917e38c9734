import faye from '@primus/transformer-faye';
import lws from '@primus/transformer-lws';
import sockjs from '@primus/transformer-sockjs';
import { faultSuite } from './fault-suite';

// socket.io and browserchannel run in files of their own, so each file stays well under a minute.
faultSuite([
  { transformer: sockjs, clients: 200, heartbeatFromQuery: true },
  { transformer: faye, clients: 200, heartbeatFromQuery: true },
  { transformer: lws, clients: 200, heartbeatFromQuery: true },
]);
