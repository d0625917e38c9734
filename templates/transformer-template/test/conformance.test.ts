import { transformerSuite } from '@primus/transformer-test-suite';
import myframework from '../src';

// Adjust the capabilities to what the framework does; the suite's README lists them.
transformerSuite({ transformer: myframework, capabilities: { plainHttpStatus: 426, websocketPath: '/primus' } });
