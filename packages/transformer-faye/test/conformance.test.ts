import { transformerSuite } from '@primus/transformer-test-suite';
import faye from '../src';

transformerSuite({ transformer: faye, capabilities: { plainHttpStatus: 426, websocketPath: '/primus', unixSocket: true } });
