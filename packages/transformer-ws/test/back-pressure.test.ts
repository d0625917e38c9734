import { backPressureSuite } from '@primus/transformer-test-suite';
import websockets from '../src';

backPressureSuite({ transformer: websockets });
