import { transformerSuite } from '@primus/transformer-test-suite';
import socketio from '../src';

// socket.io answers plain HTTP requests under the pathname itself (see socketio.test.ts).
transformerSuite({ transformer: socketio });
