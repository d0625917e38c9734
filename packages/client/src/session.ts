/**
 * The client's half of connection-state recovery (docs/recovery.md; the wire extension is
 * docs/protocol.md section 9). Both sides count data messages; this keeps what the server has not
 * acknowledged, so it can be sent again on the next connection.
 */

/** Why the server could not resume the session (`recovery failed`). */
export type RecoveryFailure = 'unknown' | 'overflow';

/** What the session needs from its client. */
export interface SessionOwner {
  /** Send an encoded payload on the current connection, as is. */
  resend(payload: unknown): void;
  /** Send a control message, if connected. */
  control(message: string): void;
  emit(event: 'recovered' | 'recovery failed', value: string): unknown;
}

export class ClientSession {
  /** The session id (the spark id); empty before the server's first answer. */
  id = '';
  /** Data messages received in the session. */
  received = 0;
  /** Our data messages the server acknowledged. */
  acked = 0;
  /** Sent and not acknowledged, encoded, oldest first. */
  unacked: unknown[] = [];
  /** `received` as last acknowledged. */
  private ackedReceived = 0;
  private every = 256;
  /** 0: this connection has not answered yet; 1: it has; 2: the server does not speak recovery. */
  private state = 0;

  constructor(private readonly owner: SessionOwner) {}

  /** The connect-query value that announces recovery, or resumes the session. */
  param(): string {
    return this.id ? `1.${this.received}.${this.acked}.${this.id}` : '1';
  }

  /** A connection opened: send again what the server has not acknowledged. */
  opened(): void {
    this.state = 0;
    for (const payload of this.unacked) this.owner.resend(payload);
  }

  /** A data message went out. */
  sent(payload: unknown): void {
    if (this.state < 2) this.unacked.push(payload);
  }

  /** A control message arrived: the answer, an acknowledgement, or another. */
  control(type: string, value: string): void {
    if (type === 'recovery') this.answer(value);
    else if (type === 'ack') this.acknowledged(value);
    else this.unanswered();
  }

  /** A data message arrived. */
  data(): void {
    this.unanswered();
    if (this.state === 1 && ++this.received - this.ackedReceived >= this.every) this.ack();
  }

  /** The server answers first when it has recovery: anything else first means it has not. */
  private unanswered(): void {
    if (this.state !== 0) return;
    this.state = 2;
    this.forget();
  }

  /** Acknowledge, if anything arrived since the last acknowledgement (before a ping). */
  ackIfChanged(): void {
    if (this.state === 1 && this.received !== this.ackedReceived) this.ack();
  }

  /** `primus::recovery::<status>.<ackEvery>.<received>.<id>`. */
  private answer(value: string): void {
    const match = /^(\w+)\.(\d+)\.(\d+)\.(.+)$/s.exec(value);
    if (!match || this.state !== 0) return;
    const status = match[1]!;
    this.state = 1;
    this.every = Math.max(1, +match[2]!);
    if (status === 'ok' && match[4] === this.id) {
      this.acknowledged(match[3]!);
      this.owner.emit('recovered', this.id);
      return;
    }
    const failed = this.id !== '';
    // A new session: what went out on this connection is its start.
    this.id = match[4]!;
    this.received = this.ackedReceived = this.acked = 0;
    if (failed) this.owner.emit('recovery failed', status === 'ok' ? 'unknown' : status);
  }

  /** `primus::ack::<n>`: the server has our first `n` data messages. */
  private acknowledged(value: string): void {
    const n = +value;
    if (!(n > this.acked)) return;
    this.unacked.splice(0, Math.min(n - this.acked, this.unacked.length));
    this.acked = n;
  }

  /** The client ends on purpose: tell the server not to wait for it, and forget the session. */
  end(): void {
    if (this.state === 1) this.owner.control('primus::recovery::end');
    this.forget();
  }

  /** The client ended for good: there is nothing to resume. */
  forget(): void {
    this.id = '';
    this.unacked = [];
    this.received = this.ackedReceived = this.acked = 0;
  }

  private ack(): void {
    this.ackedReceived = this.received;
    this.owner.control(`primus::ack::${this.received}`);
  }
}
