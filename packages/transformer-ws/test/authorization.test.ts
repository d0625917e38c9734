import { authorizationSuite } from '@primus/transformer-test-suite';
import websockets from '../src';

// WebSocket only: the upgrade and every plain request under the pathname need the credentials.
authorizationSuite({ transformer: websockets, capabilities: { polling: false } });
