import { backPressureSuite } from '@primus/transformer-test-suite';
import lws from '../src';

backPressureSuite({ transformer: lws });
