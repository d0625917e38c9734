/**
 * The heartbeat deadlines of a server's sparks. A Node `Timeout` per spark costs about 180 bytes
 * with its arguments, on every idle connection, and almost every spark waits the same time
 * (`ping + pong/2` of the same client build). So sparks that wait the same time share one list,
 * kept in deadline order for free: a reset always moves a spark to the tail with the latest
 * deadline. Each list runs one timer, for its head. This is how Node arranges its own timers,
 * with the spark itself as the list node.
 */

/** What a list holds: a spark, seen through the fields the lists own. */
export interface HeartbeatEntry {
  /** @internal */ hbPrev: HeartbeatEntry | null;
  /** @internal */ hbNext: HeartbeatEntry | null;
  /** @internal When the heartbeat expires (a `performance.now()` time), or 0 when not scheduled. */
  hbDeadline: number;
  /** @internal The list the entry is on. */
  hbList: HeartbeatList | null;
  onHeartbeatExpired(): void;
}

/**
 * A monotonic clock: a wall clock stepped forward (NTP, a resumed VM) must not expire every
 * heartbeat at once.
 */
function now(): number {
  return performance.now();
}

class HeartbeatList {
  head: HeartbeatEntry | null = null;
  tail: HeartbeatEntry | null = null;
  private timer: NodeJS.Timeout | null = null;
  private armedFor = 0;

  constructor(
    readonly ms: number,
    private readonly owner: HeartbeatTimers,
  ) {}

  append(entry: HeartbeatEntry, deadline: number): void {
    entry.hbDeadline = deadline;
    entry.hbList = this;
    entry.hbPrev = this.tail;
    entry.hbNext = null;
    if (this.tail) this.tail.hbNext = entry;
    else this.head = entry;
    this.tail = entry;
    if (!this.timer) this.arm(deadline);
  }

  remove(entry: HeartbeatEntry): void {
    if (entry.hbPrev) entry.hbPrev.hbNext = entry.hbNext;
    else this.head = entry.hbNext;
    if (entry.hbNext) entry.hbNext.hbPrev = entry.hbPrev;
    else this.tail = entry.hbPrev;
    entry.hbPrev = entry.hbNext = entry.hbList = null;
    entry.hbDeadline = 0;
    // The timer stays armed for the old head; when it fires it re-arms for the new one. Leaving
    // it is cheaper than re-arming on every reset of the head, which is the common case.
    if (!this.head) this.stop();
  }

  private arm(deadline: number): void {
    this.armedFor = deadline;
    this.timer = setTimeout(expire, Math.max(1, Math.ceil(deadline - now())), this);
    // A heartbeat alone must not keep the process alive.
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.owner.dropList(this);
  }

  /** The timer fired: expire every entry whose deadline has passed, then wait for the next. */
  fire(): void {
    this.timer = null;
    const time = now();
    let entry = this.head;
    while (entry && entry.hbDeadline <= time) {
      this.remove(entry);
      // May append the entry again, at the tail with a later deadline, so the loop ends.
      entry.onHeartbeatExpired();
      entry = this.head;
    }
    if (entry) {
      if (!this.timer || this.armedFor !== entry.hbDeadline) {
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        this.arm(entry.hbDeadline);
      }
    } else if (this.timer) {
      this.stop();
    }
  }
}

function expire(list: HeartbeatList): void {
  list.fire();
}

/** A server's heartbeat lists, one per waiting time. */
export class HeartbeatTimers {
  private readonly lists = new Map<number, HeartbeatList>();

  /** (Re)start the entry's wait of `ms`. */
  schedule(entry: HeartbeatEntry, ms: number): void {
    if (entry.hbList) entry.hbList.remove(entry);
    let list = this.lists.get(ms);
    if (!list) {
      list = new HeartbeatList(ms, this);
      this.lists.set(ms, list);
    }
    list.append(entry, now() + ms);
  }

  /** Stop the entry's wait. */
  cancel(entry: HeartbeatEntry): void {
    entry.hbList?.remove(entry);
  }

  /** @internal An emptied list leaves, so unusual waiting times do not accumulate. */
  dropList(list: HeartbeatList): void {
    if (this.lists.get(list.ms) === list) this.lists.delete(list.ms);
  }
}
