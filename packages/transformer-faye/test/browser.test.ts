import { browserSuite } from '@primus/transformer-test-suite';
import faye from '../src';

browserSuite({ transformer: faye });
