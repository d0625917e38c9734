// The protocol kernel that @primus/core (for each spark) and @primus/client share. Its code ships
// in every page's primus.js: keep it small, side-effect free and tree-shakable.
export { connectionError, ParserError, PrimusError, type PrimusErrorCode } from './errors';
export { describeValue, invalidOption, invalidValue, optionChecker, optionError, type InvalidOptionError, type NumberRule, type OptionChecker } from './options';
export { CONTROL_PREFIX, control, escapeSeparators, isControl, parseControl, type ControlMessage } from './control';
export { runTransformers, toError, type MessageTransformer, type Packet, type TransformDone, type TransformNext } from './transform';
export { addTransformer, encode, parserError, receive, transformError, transmit, type Side, type Transformers } from './kernel';
export { emits, type Emitting } from './emits';
export { parseDuration } from './duration';
