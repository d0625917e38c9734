/**
 * `@primus/core/contract`: all of the core a transformer may use. The contract types and
 * `defineTransformer` (contract.ts, which imports nothing of the implementation), and
 * `compactListeners` for per-connection emitters, `websocketFrame` for transformers that write
 * their own WebSocket frames, and the error class and option checks (so a
 * transformer's errors carry the codes docs/errors.md lists). `pnpm check:boundaries` keeps
 * transformers to it.
 */
export * from './contract';
export { compactListeners } from './compact-listeners';
export { websocketFrame } from './websocket-frame';
export { invalidOption, invalidValue, optionChecker, PrimusError, type OptionChecker } from './errors';
