import { badInputSuite } from '@primus/transformer-test-suite';
import browserchannel from '../src';

// BrowserChannel is HTTP long-polling only: the WebSocket-level corpus is reported as not
// supported, and the suite checks that an upgrade under the pathname is indeed not taken.
badInputSuite({ transformer: browserchannel });
