import { batchingSuite } from '@primus/transformer-test-suite';
import websockets from '../src';

batchingSuite({ transformer: websockets });
