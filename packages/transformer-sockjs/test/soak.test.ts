import { join } from 'node:path';
import { SOAK_SIZES, soakSuite } from '@primus/transformer-test-suite';
import sockjs from '../src';

// The soak runs the built package: `npx turbo run build` first. SOAK=full runs the full size
// (`pnpm test:soak`); RELIABILITY_REPORT_SOAK=<file> writes the figures as JSON.
const size = process.env.SOAK === 'full' ? SOAK_SIZES.full : SOAK_SIZES.ci;
// The CI soak holds connections on websockets and lws only; every transformer runs the cycles.
soakSuite({ transformer: sockjs, entry: join(__dirname, '..', 'dist', 'index.js'), size: { ...size, hold: null } });
