import { transformerSuite } from '@primus/transformer-test-suite';
import engineio from '../src';

// engine.io answers plain HTTP requests under the pathname itself (400 JSON, tested in engineio.test.ts).
transformerSuite({ transformer: engineio, capabilities: { plainHttpStatus: undefined, websocketPath: '/primus/?EIO=4&transport=websocket', unixSocket: true } });
