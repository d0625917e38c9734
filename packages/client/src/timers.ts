type Handle = ReturnType<typeof setTimeout>;

/**
 * Named one-shot timers. Setting a name that is already pending replaces it; happn-primus's timer
 * library appended instead, which made several pings fire in one tick after a burst of pongs.
 */
export class Timers {
  private _pending: Record<string, Handle> = Object.create(null);

  /** Arm `name` to call `fn` after `ms`, replacing any pending timer of that name. */
  set(name: string, fn: () => void, ms: number): void {
    this.clear(name);
    this._pending[name] = setTimeout(() => {
      delete this._pending[name];
      fn();
    }, ms);
  }

  /** Cancel the named timers. */
  clear(...names: string[]): void {
    for (const name of names) {
      clearTimeout(this._pending[name]);
      delete this._pending[name];
    }
  }

  /** Cancel every timer. */
  clearAll(): void {
    this.clear(...Object.keys(this._pending));
  }

  /** Whether the named timer is pending. */
  active(name: string): boolean {
    return name in this._pending;
  }

  /** How many timers are pending. */
  get size(): number {
    return Object.keys(this._pending).length;
  }

  /** Cancel everything; the registry stays usable. */
  destroy(): void {
    this.clearAll();
  }
}
