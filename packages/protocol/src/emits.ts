/** Something with an `emit` method. */
export interface Emitting {
  emit(event: string, ...args: unknown[]): boolean;
}

/**
 * Build a function that re-emits its arguments as `event` on `target`, optionally through
 * `parser` (called with the target as `this`; its return value becomes the emitted argument).
 * `spark.emits('data')` and `primus.emits('data')` are the stream-friendly way to forward events.
 */
export function emits(target: Emitting, event: string, parser?: (...args: unknown[]) => unknown): (...args: unknown[]) => boolean {
  if (!parser) return (...args) => target.emit(event, ...args);
  return (...args) => target.emit(event, parser.apply(target, args));
}
