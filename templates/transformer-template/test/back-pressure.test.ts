import { backPressureSuite } from '@primus/transformer-test-suite';
import myframework from '../src';

// `send()` reports the buffer and the socket's drain reaches the sink; a framework that cannot
// measure its buffer sets `capabilities: { backPressure: false }`.
backPressureSuite({ transformer: myframework });
