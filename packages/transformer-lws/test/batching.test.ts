import { batchingSuite } from '@primus/transformer-test-suite';
import lws from '../src';

// lws batches per tick in its binding (one native call per flush, one system call per
// connection), but libwebsockets takes over the descriptor of the upgraded socket and writes to it
// itself: the Node socket, where the suite counts writes, carries nothing.
batchingSuite({ transformer: lws, capabilities: { nodeSocket: false } });
