// One PrimusError and one ParserError for the server and the client, from @primus/protocol, so
// `instanceof` holds for errors from either side.
export { invalidOption, ParserError, PrimusError, type PrimusErrorCode } from '@primus/protocol';
