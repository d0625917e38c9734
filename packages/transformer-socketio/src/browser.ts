// Entry of the browser bundle embedded in primus.js: the shared socket.io transport. The socket.io
// client itself is built separately (scripts/build-io-client.mjs) and handed to it in primus.js.
export { socketioTransport } from './transport';
