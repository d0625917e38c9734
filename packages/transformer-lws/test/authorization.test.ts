import { authorizationSuite } from '@primus/transformer-test-suite';
import lws from '../src';

// WebSocket only: the upgrade and every plain request under the pathname need the credentials.
authorizationSuite({ transformer: lws, capabilities: { polling: false } });
