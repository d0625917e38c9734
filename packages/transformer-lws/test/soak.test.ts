import { join } from 'node:path';
import { SOAK_SIZES, soakSuite } from '@primus/transformer-test-suite';
import lws from '../src';

// The soak runs the built package: `npx turbo run build` first. SOAK=full runs the full size
// (`pnpm test:soak`); RELIABILITY_REPORT_SOAK=<file> writes the figures as JSON.
const size = process.env.SOAK === 'full' ? SOAK_SIZES.full : SOAK_SIZES.ci;

soakSuite({ transformer: lws, entry: join(__dirname, '..', 'dist', 'index.js'), size });
