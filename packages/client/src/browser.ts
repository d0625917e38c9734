// Entry of the browser build that `primus.library()` embeds: the client and the helpers a
// transformer's browser half may use, with nothing Node-specific.
//
// Every module this entry reaches ships in each page's primus.js, so they are written for its size:
// members that are private to the client start with `_` (the build shortens them; `_write` is
// public and kept), and `??` / `?.` are spelled out where they would otherwise compile to
// temporaries at primus.js's ES2018 target. eventemitter3 is replaced by ./emitter.ts in this
// build only (see package.json's build script).
//
// The order of these exports is the order of the modules in the bundle; this one gzips about 14
// bytes smaller than client-first.
export { parseQuery, stringifyQuery } from './url';
export { websocketTransport } from './websocket';
export { compile, PrimusClient } from './client';
export { toError } from '@primus/protocol';
