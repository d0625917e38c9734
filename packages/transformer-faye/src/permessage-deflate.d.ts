// permessage-deflate ships no types; the transformer only hands the extension to faye-websocket.
declare module 'permessage-deflate' {
  const extension: unknown;
  export default extension;
}
