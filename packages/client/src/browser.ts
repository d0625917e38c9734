// Entry of the browser build that `primus.library()` embeds: the client and the helpers a
// transformer's browser half may use, with nothing Node-specific.
export { compile, PrimusClient } from './client';
export { websocketTransport } from './websocket';
export { parseQuery, stringifyQuery } from './url';
export { toError } from './transform';
