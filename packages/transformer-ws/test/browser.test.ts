import { browserSuite } from '@primus/transformer-test-suite';
import websockets from '../src';

browserSuite({ transformer: websockets });
