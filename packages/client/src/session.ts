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
  _resend(payload: unknown): void;
  /** Send a control message, if connected. */
  _control(message: string): void;
  emit(event: 'recovered' | 'recovery failed', value: string): unknown;
}

export class ClientSession {
  /** The session id (the spark id); empty before the server's first answer. */
  id = '';
  /** Data messages received in the session. */
  _received = 0;
  /** Our data messages the server acknowledged. */
  _acked = 0;
  /** Sent and not acknowledged, encoded, oldest first. */
  unacked: unknown[] = [];
  /** `received` as last acknowledged. */
  private _ackedReceived = 0;
  private _every = 256;
  /** 0: this connection has not answered yet; 1: it has; 2: the server does not speak recovery. */
  private _state = 0;

  constructor(private readonly _owner: SessionOwner) {}

  /**
   * The spark id as far as this connection knows it: the session's once the server has answered,
   * '' while its answer is awaited (the session may resume or start anew), undefined when the
   * server does not speak recovery.
   */
  _sparkId(): string | undefined {
    return this._state === 1 ? this.id : this._state === 0 ? '' : undefined;
  }

  /** The connect-query value that announces recovery, or resumes the session. */
  _param(): string {
    return this.id ? `1.${this._received}.${this._acked}.${this.id}` : '1';
  }

  /** A connection opened: send again what the server has not acknowledged. */
  _opened(): void {
    this._state = 0;
    for (const payload of this.unacked) this._owner._resend(payload);
  }

  /** A data message went out. */
  _sent(payload: unknown): void {
    if (this._state < 2) this.unacked.push(payload);
  }

  /** A control message arrived: the answer, an acknowledgement, or another. */
  _control(type: string, value: string): void {
    if (type === 'recovery') this._answer(value);
    else if (type === 'ack') this._acknowledged(value);
    else this._unanswered();
  }

  /** A data message arrived. */
  _data(): void {
    this._unanswered();
    if (this._state === 1 && ++this._received - this._ackedReceived >= this._every) this._ack();
  }

  /** The server answers first when it has recovery: anything else first means it has not. */
  private _unanswered(): void {
    if (this._state !== 0) return;
    this._state = 2;
    this._forget();
  }

  /** Acknowledge, if anything arrived since the last acknowledgement (before a ping). */
  _ackIfChanged(): void {
    if (this._state === 1 && this._received !== this._ackedReceived) this._ack();
  }

  /** `primus::recovery::<status>.<ackEvery>.<received>.<id>`. */
  private _answer(value: string): void {
    const match = /^(\w+)\.(\d+)\.(\d+)\.(.+)$/s.exec(value);
    if (!match || this._state !== 0) return;
    const status = match[1]!;
    this._state = 1;
    this._every = Math.max(1, +match[2]!);
    if (status === 'ok' && match[4] === this.id) {
      this._acknowledged(match[3]!);
      this._owner.emit('recovered', this.id);
      return;
    }
    const failed = this.id !== '';
    // A new session: what went out on this connection is its start.
    this.id = match[4]!;
    this._received = this._ackedReceived = this._acked = 0;
    if (failed) this._owner.emit('recovery failed', status === 'ok' ? 'unknown' : status);
  }

  /** `primus::ack::<n>`: the server has our first `n` data messages. */
  private _acknowledged(value: string): void {
    const n = +value;
    if (!(n > this._acked)) return;
    this.unacked.splice(0, Math.min(n - this._acked, this.unacked.length));
    this._acked = n;
  }

  /** The client ends on purpose: tell the server not to wait for it, and forget the session. */
  _end(): void {
    if (this._state === 1) this._owner._control('primus::recovery::end');
    this._forget();
  }

  /** The client ended for good: there is nothing to resume. */
  _forget(): void {
    this.id = '';
    this.unacked = [];
    this._received = this._ackedReceived = this._acked = 0;
  }

  private _ack(): void {
    this._ackedReceived = this._received;
    this._owner._control(`primus::ack::${this._received}`);
  }
}
