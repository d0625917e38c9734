import { authorizationSuite } from '@primus/transformer-test-suite';
import faye from '../src';

// WebSocket only: the upgrade and every plain request under the pathname need the credentials.
authorizationSuite({ transformer: faye, capabilities: { polling: false } });
