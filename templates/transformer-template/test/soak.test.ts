import { join } from 'node:path';
import { SOAK_SIZES, soakSuite } from '@primus/transformer-test-suite';
import myframework from '../src';

// The soak runs the built package (`npm run build` first). SOAK=full runs the full size, which
// also holds 10,000 connections; the CI size runs the connect/disconnect cycles.
const size = process.env.SOAK === 'full' ? SOAK_SIZES.full : { ...SOAK_SIZES.ci, hold: null };
soakSuite({ transformer: myframework, entry: join(__dirname, '..', 'dist', 'index.js'), size });
