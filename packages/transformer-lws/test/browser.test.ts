import { browserSuite } from '@primus/transformer-test-suite';
import lws from '../src';

browserSuite({ transformer: lws });
