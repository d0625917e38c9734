import type { ConnectionSink } from './contract';
import { utf8Text, type SparkBase } from './spark';

/** The spark's side of what a transformer reports. */
type ReportingSpark = Pick<SparkBase, 'id' | 'incomingData' | 'incomingPing' | 'incomingDrain' | 'incomingError' | 'incomingEnd'>;

/**
 * The sink `context.connect()` returns: the transformer's reports, passed on to the spark. One
 * field, so a connection costs the transformer 16 bytes more than holding the spark itself did,
 * and the spark's own methods for these reports stay out of its public type.
 */
export class SparkSink implements ConnectionSink {
  constructor(private readonly spark: ReportingSpark) {}

  get id(): string {
    return this.spark.id;
  }

  data(raw: unknown): void {
    this.spark.incomingData(raw);
  }

  ping(): void {
    this.spark.incomingPing();
  }

  drain(): void {
    this.spark.incomingDrain();
  }

  error(err: unknown): void {
    this.spark.incomingError(err);
  }

  end(): void {
    this.spark.incomingEnd();
  }
}

/** The sink of a `textOnly` transformer: bytes it reports are decoded as UTF-8 first. */
export class TextSparkSink extends SparkSink {
  override data(raw: unknown): void {
    super.data(raw instanceof Uint8Array || raw instanceof ArrayBuffer ? utf8Text(raw) : raw);
  }
}
