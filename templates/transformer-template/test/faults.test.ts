import { faultSuite } from '@primus/transformer-test-suite';
import myframework from '../src';

// Server restart under many clients, blackhole and waylaid pings, through the suite's fault proxy.
faultSuite({ transformer: myframework, clients: 200 });
