import { browserRecoverySuite } from '@primus/transformer-test-suite';
import engineio from '../src';

// Long-polling alone, so the resumed session travels in polling requests' queries.
browserRecoverySuite({ transformer: engineio, clientOptions: { websockets: false }, label: 'engine.io (polling)' });
