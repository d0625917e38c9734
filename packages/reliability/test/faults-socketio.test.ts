import socketio from '@primus/transformer-socketio';
import { faultSuite } from './fault-suite';

// The restart scenario passes on socket.io alone but failed once while the other fault files ran
// in parallel on two cores; it stays off until that is understood (see docs/reliability.md).
faultSuite([{ transformer: socketio, clients: 0, heartbeatFromQuery: true }]);
