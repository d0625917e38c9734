import { frameworkInputSuite } from '@primus/transformer-test-suite';
import { framework } from './framework';

// Bogus SockJS input (corpus/framework/sockjs.json of the suite) next to a well-behaved client.
frameworkInputSuite({ framework, corpus: 'sockjs' });
