import { badInputSuite } from '@primus/transformer-test-suite';
import engineio from '../src';
import { websocket } from './framework';

badInputSuite({ transformer: engineio, capabilities: { websocket } });
