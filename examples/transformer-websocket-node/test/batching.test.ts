import { batchingSuite } from '@primus/transformer-test-suite';
import websocketNode from '../src';

// WebSocket-Node writes each frame as it is sent, and has no permessage-deflate.
batchingSuite({ transformer: websocketNode, capabilities: { batching: false, compression: false } });
