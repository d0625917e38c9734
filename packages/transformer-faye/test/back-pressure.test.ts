import { backPressureSuite } from '@primus/transformer-test-suite';
import faye from '../src';

backPressureSuite({ transformer: faye });
