import { authorizationSuite } from '@primus/transformer-test-suite';
import websocketNode from '../src';

// WebSocket only: the upgrade and every plain request under the pathname need the credentials.
authorizationSuite({ transformer: websocketNode, capabilities: { polling: false } });
