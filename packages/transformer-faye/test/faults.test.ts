import { faultSuite } from '@primus/transformer-test-suite';
import faye from '../src';

// Server restart under 200 clients, blackhole and waylaid pings, through the suite's fault proxy.
faultSuite({ transformer: faye, clients: 200 });
