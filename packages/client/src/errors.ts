// The error classes and option helpers live in @primus/protocol, shared with the server.
export { connectionError, invalidValue, optionError, parseDuration, PrimusError } from '@primus/protocol';
