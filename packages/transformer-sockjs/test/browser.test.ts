import { browserSuite } from '@primus/transformer-test-suite';
import sockjs from '../src';

browserSuite({ transformer: sockjs });
