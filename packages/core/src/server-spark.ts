import type { Primus } from './primus';
import { SparkBase } from './spark';

/**
 * One client connection on the server, as the application sees it: a Node stream that speaks the
 * happn-primus protocol (see `SparkBase`), whose server is a `Primus`.
 *
 * Servers extend their own sparks through `primus.Spark.prototype`; TypeScript users declare what
 * they add with `declare module '@primus/core' { interface Spark { join(room: string): void } }`.
 */
export class Spark extends SparkBase {
  /** The server this spark belongs to. */
  declare readonly primus: Primus;
}
