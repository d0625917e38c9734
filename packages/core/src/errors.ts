// One error system for the server and the client, from @primus/protocol: the classes (so
// `instanceof` holds for errors from either side), the bad-option helpers and the option checks
// every package uses. docs/errors.md explains each code.
export {
  connectionError,
  describeValue,
  invalidOption,
  invalidValue,
  optionChecker,
  optionError,
  ParserError,
  PrimusError,
  type InvalidOptionError,
  type NumberRule,
  type OptionChecker,
  type PrimusErrorCode,
} from '@primus/protocol';
