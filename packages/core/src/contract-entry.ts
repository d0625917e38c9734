/**
 * `@primus/core/contract`: all of the core a transformer may use. The contract types and
 * `defineTransformer` (contract.ts, which imports nothing of the implementation), and
 * `compactListeners` for per-connection emitters. `pnpm check:boundaries` keeps transformers to it.
 */
export * from './contract';
export { compactListeners } from './compact-listeners';
