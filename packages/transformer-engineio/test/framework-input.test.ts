import { frameworkInputSuite } from '@primus/transformer-test-suite';
import { framework } from './framework';

// Bogus engine.io input (corpus/framework/engine.io.json of the suite) next to a well-behaved client.
frameworkInputSuite({ framework, corpus: 'engine.io' });
