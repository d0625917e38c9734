import { batchingSuite } from '@primus/transformer-test-suite';
import myframework from '../src';

// The `ws` stand-in writes each frame as it is sent. A transformer that holds the writes of one
// tick until the core's flush (docs/writing-a-transformer.md, "Writes of one tick") drops the flag.
batchingSuite({ transformer: myframework, capabilities: { batching: false } });
