import { faultSuite } from '@primus/transformer-test-suite';
import websocketNode from '../src';

// Server restart under 200 clients, blackhole and waylaid pings, through the suite's fault proxy.
faultSuite({ transformer: websocketNode, clients: 200 });
