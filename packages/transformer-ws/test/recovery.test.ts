import { recoverySuite } from '@primus/transformer-test-suite';
import websockets from '../src';

// 10,000 numbered messages each way through the fault proxy with the link cut mid-stream: exactly
// once and in order with recovery on, lost with it off.
recoverySuite({ transformer: websockets });
