import { badInputSuite } from '@primus/transformer-test-suite';
import socketio from '../src';
import { websocket } from './framework';

badInputSuite({ transformer: socketio, capabilities: { websocket } });
