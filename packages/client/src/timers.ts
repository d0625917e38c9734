type Handle = ReturnType<typeof setTimeout>;

/**
 * Named one-shot timers. Setting a name that is already pending replaces it; happn-primus's timer
 * library appended instead, which made several pings fire in one tick after a burst of pongs.
 */
export class Timers {
  private readonly pending = new Map<string, Handle>();

  /** Arm `name` to call `fn` after `ms`, replacing any pending timer of that name. */
  set(name: string, fn: () => void, ms: number): void {
    this.clear(name);
    this.pending.set(
      name,
      setTimeout(() => {
        this.pending.delete(name);
        fn();
      }, ms),
    );
  }

  /** Cancel the named timers. */
  clear(...names: string[]): void {
    for (const name of names) {
      const handle = this.pending.get(name);
      if (handle === undefined) continue;
      clearTimeout(handle);
      this.pending.delete(name);
    }
  }

  /** Cancel every timer. */
  clearAll(): void {
    for (const handle of this.pending.values()) clearTimeout(handle);
    this.pending.clear();
  }

  /** Whether the named timer is pending. */
  active(name: string): boolean {
    return this.pending.has(name);
  }

  /** How many timers are pending. */
  get size(): number {
    return this.pending.size;
  }

  /** Cancel everything; the registry stays usable. */
  destroy(): void {
    this.clearAll();
  }
}
