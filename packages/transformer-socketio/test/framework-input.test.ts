import { frameworkInputSuite } from '@primus/transformer-test-suite';
import { framework } from './framework';

// Bogus socket.io 0.9 input (corpus/framework/socket.io.json of the suite) next to a well-behaved client.
frameworkInputSuite({ framework, corpus: 'socket.io' });
