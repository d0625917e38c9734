import deflate from 'permessage-deflate';
import { batchingSuite } from '@primus/transformer-test-suite';
import faye from '../src';

// faye-websocket's Client offers permessage-deflate only when given the extension.
batchingSuite({ transformer: faye, compressionClient: { transport: { extensions: [deflate] } } });
