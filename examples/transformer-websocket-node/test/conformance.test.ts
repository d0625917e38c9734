import { transformerSuite } from '@primus/transformer-test-suite';
import websocketNode from '../src';

// Raw WebSocket on /primus, but WebSocket-Node has no permessage-deflate; plain HTTP requests get
// the core's 426.
transformerSuite({ transformer: websocketNode, capabilities: { plainHttpStatus: 426, websocketPath: '/primus', compression: false } });
