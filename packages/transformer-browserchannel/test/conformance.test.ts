import { transformerSuite } from '@primus/transformer-test-suite';
import browserchannel from '../src';

// browserchannel answers plain HTTP requests under the pathname itself (see browserchannel.test.ts).
transformerSuite({ transformer: browserchannel, capabilities: { unixSocket: true } });
