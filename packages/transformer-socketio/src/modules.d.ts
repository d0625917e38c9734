// socket.io 0.9 and primus-socket.io-client ship no types. The transformer describes the few parts
// it uses next to the code that uses them (server.ts, transport.ts) and casts to those.
declare module 'socket.io' {
  const io: { readonly Manager: unknown; readonly version: string };
  export default io;
}

declare module 'primus-socket.io-client' {
  const io: unknown;
  export default io;
}
