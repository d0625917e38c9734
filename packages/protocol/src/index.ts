export { invalidOption, ParserError, PrimusError, type PrimusErrorCode } from './errors';
