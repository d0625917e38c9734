// The browser half's entry. `primus-bundle-browser` (the build script) bundles it, with everything
// it imports, into one expression stored in generated/browser.ts; `browser()` hands that to
// primus.js. A framework with its own browser client imports that client here. `ws` has none:
// the browser's WebSocket is enough, through the helper primus.js already carries.
import type { ClientTransport, websocketTransport } from '@primus/client';

/** The client library's helpers that primus.js passes to the browser half (only those used here). */
interface Helpers {
  websocketTransport: typeof websocketTransport;
}

/** The browser client half, given the helpers. */
export function transport(lib: Helpers): ClientTransport {
  return lib.websocketTransport(undefined, 'myframework');
}
