import { backPressureSuite } from '@primus/transformer-test-suite';
import browserchannel from '../src';

backPressureSuite({ transformer: browserchannel });
