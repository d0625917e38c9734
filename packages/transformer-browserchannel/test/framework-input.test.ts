import { frameworkInputSuite } from '@primus/transformer-test-suite';
import { framework } from './framework';

// Bogus BrowserChannel input (corpus/framework/browserchannel.json of the suite) next to a well-behaved client.
frameworkInputSuite({ framework, corpus: 'browserchannel' });
