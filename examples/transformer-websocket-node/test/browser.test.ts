import { browserSuite } from '@primus/transformer-test-suite';
import websocketNode from '../src';

// Needs Chromium: set PRIMUS_CHROMIUM when it is not at /usr/bin/chromium.
browserSuite({ transformer: websocketNode });
