import { badInputSuite } from '@primus/transformer-test-suite';
import sockjs from '../src';

// SockJS's raw WebSocket endpoint: one Primus message per frame, no SockJS framing.
badInputSuite({ transformer: sockjs, capabilities: { websocket: '/primus/websocket' } });
