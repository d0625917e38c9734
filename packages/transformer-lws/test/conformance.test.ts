import { transformerSuite } from '@primus/transformer-test-suite';
import lws from '../src';

transformerSuite({ transformer: lws, capabilities: { plainHttpStatus: 426, websocketPath: '/primus', unixSocket: true } });
