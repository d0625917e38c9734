import { browserRecoverySuite } from '@primus/transformer-test-suite';
import websockets from '../src';

browserRecoverySuite({ transformer: websockets });
