import { backPressureSuite } from '@primus/transformer-test-suite';
import websocketNode from '../src';

// send() returns false past highWaterMark and the TCP socket's drain reports the way back.
backPressureSuite({ transformer: websocketNode });
