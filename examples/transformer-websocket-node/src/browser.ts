// The browser half's entry, bundled by `primus-bundle-browser` (the build script) into
// generated/browser.ts. WebSocket-Node has no browser client of its own: the browser's
// WebSocket speaks the same protocol, through the helper primus.js already carries.
import type { ClientTransport, websocketTransport } from '@primus/client';

/** The client library's helpers that primus.js passes to the browser half (only those used here). */
interface Helpers {
  websocketTransport: typeof websocketTransport;
}

/** The browser client half, given the helpers. */
export function transport(lib: Helpers): ClientTransport {
  return lib.websocketTransport(undefined, 'websocket-node');
}
