/**
 * One timer for many deadlines. Entries are kept sorted by deadline in a doubly linked list; a single
 * timer is armed for the earliest. Adding and removing an entry allocates nothing beyond the entry,
 * and a call that ends in time never touches the timer: it stays armed for an entry that left and,
 * when it fires, finds nothing due and re-arms for the next entry (or stops when none is left). So a
 * steady stream of calls costs about one `setTimeout` per timeout period, not one per call.
 */

/** An entry of a {@link DeadlineQueue}. */
export abstract class DeadlineEntry {
  /** Epoch milliseconds at which the entry expires. */
  deadline = 0;
  /** @internal */
  prev: DeadlineEntry | undefined = undefined;
  /** @internal */
  next: DeadlineEntry | undefined = undefined;
  /** @internal */
  queued = false;
  /** Called once when the deadline passes while the entry is queued. */
  abstract expire(): void;
}

/** Entries sorted by deadline, one unref'ed timer for the earliest. */
export class DeadlineQueue {
  private head: DeadlineEntry | undefined;
  private tail: DeadlineEntry | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly onTimer = () => this.fire();

  /** Number of queued entries (for tests and stats). */
  size = 0;

  /** Queues `entry` at its deadline. */
  add(entry: DeadlineEntry): void {
    let after = this.tail;
    while (after !== undefined && after.deadline > entry.deadline) after = after.prev;
    entry.prev = after;
    entry.next = after === undefined ? this.head : after.next;
    if (entry.next === undefined) this.tail = entry;
    else entry.next.prev = entry;
    if (after === undefined) this.head = entry;
    else after.next = entry;
    entry.queued = true;
    this.size++;
    if (entry.deadline < this.timerAt) this.arm(entry.deadline);
  }

  /** Removes `entry` if it is queued. The timer is left alone. */
  remove(entry: DeadlineEntry): void {
    if (!entry.queued) return;
    entry.queued = false;
    this.size--;
    if (entry.prev === undefined) this.head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) this.tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
  }

  /** Clears the timer and expires every queued entry now. The queue stays usable. */
  dispose(): void {
    this.disarm();
    while (this.head !== undefined) {
      const entry = this.head;
      this.remove(entry);
      entry.expire();
    }
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.onTimer, Math.max(1, Math.ceil(at - Date.now())));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    while (this.head !== undefined && this.head.deadline <= now) {
      const entry = this.head;
      this.remove(entry);
      entry.expire();
    }
    if (this.head !== undefined && this.head.deadline < this.timerAt) this.arm(this.head.deadline);
  }
}
