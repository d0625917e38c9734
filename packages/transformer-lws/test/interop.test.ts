// Wire compatibility with the real happn-primus 6.0.1: its websockets client against our server, our
// client against its websockets server, and both compared frame by frame (the wire is plain WebSocket).
import * as ws from 'ws';
import { websocketInteropSuite, type happnInterop } from '@primus/transformer-test-suite';
import lws from '../src';
import { client } from '../src/client';

websocketInteropSuite({
  transformer: lws,
  client,
  // happn-primus ships no types and is CommonJS only.
  happn: require('happn-primus') as happnInterop.HappnPrimusModule,
  ws,
});
