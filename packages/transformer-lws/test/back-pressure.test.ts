import { backPressureSuite } from '@primus/transformer-test-suite';
import lws from '../src';

// The lws transformer does not report what a connection holds: write() is always true. The suite
// reports back-pressure as not supported and checks that it indeed is not claimed.
backPressureSuite({ transformer: lws, capabilities: { backPressure: false } });
