import { transformerSuite } from '@primus/transformer-test-suite';
import sockjs from '../src';

// sockjs answers plain HTTP requests under the pathname itself (see sockjs.test.ts).
transformerSuite({ transformer: sockjs, capabilities: { websocketPath: '/primus/websocket' } });
