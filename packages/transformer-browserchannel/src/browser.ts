// Entry of the browser bundle embedded in primus.js: browserchannel's closure-compiled browser
// client behind the shared BrowserChannel transport. It exports BCSocket through the bundle's
// CommonJS wrapper, so no `BCSocket` global is created.
import { BCSocket } from 'browserchannel/dist/bcsocket-uncompressed.js';
import { browserchannelTransport, type BCSocketConstructor } from './transport';

/** The browser client half. */
export const transport = browserchannelTransport(BCSocket as BCSocketConstructor, { channel: 'Ec', handler: 'e', retryBase: 'ic', retrySpread: 'Cc' });
