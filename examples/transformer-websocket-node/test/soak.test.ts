import { join } from 'node:path';
import { SOAK_SIZES, soakSuite } from '@primus/transformer-test-suite';
import websocketNode from '../src';

// The soak runs the built package: `npx turbo run build` first. SOAK=full runs the full size.
const size = process.env.SOAK === 'full' ? SOAK_SIZES.full : SOAK_SIZES.ci;
// Like our transformers other than websockets and lws, the CI soak runs the connect/disconnect
// cycles and leaves holding connections to the full size.
soakSuite({ transformer: websocketNode, entry: join(__dirname, '..', 'dist', 'index.js'), size: { ...size, hold: null } });
