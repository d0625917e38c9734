import { transformerSuite } from '@primus/transformer-test-suite';
import websockets from '../src';

transformerSuite({ transformer: websockets, capabilities: { plainHttpStatus: 426, websocketPath: '/primus', unixSocket: true } });
