import { authorizationSuite } from '@primus/transformer-test-suite';
import myframework from '../src';

// WebSocket only: the upgrade and every plain request under the pathname need the credentials.
// A framework with polling transports sets `polling: true` and describes its sessions.
authorizationSuite({ transformer: myframework, capabilities: { polling: false } });
