/**
 * Command timeouts with one shared timer. Every command of a store has the same timeout, so deadlines
 * come in order: a queue and one interval (running only while commands are in flight) replace the timer
 * per command that ioredis's own `commandTimeout` arms, which costs several µs of CPU per command.
 */

/** What the sweep fails when its deadline passes: an ioredis command, or a caller's promise. */
export interface Expirable {
  reject(error: Error): unknown;
}

/** One command in flight. */
export interface Pending {
  /** Epoch ms after which the command has timed out. */
  readonly deadline: number;
  /**
   * Failed with a "timed out" error when the deadline passes; `undefined` once the command answered
   * (see {@link CommandTimeouts.done}) or timed out.
   */
  target: Expirable | undefined;
}

/**
 * A queue of in-flight commands, swept every few ms; overdue ones are expired. A connection answers its
 * commands in order, so the one that answers is usually the oldest: {@link done} takes it (and any
 * answered ones behind it) off the queue at once, and the queue holds only what is really in flight.
 */
export class CommandTimeouts {
  /** `items[head]` to `items[tail - 1]` are queued; slots outside are `undefined`. */
  private items: (Pending | undefined)[] = [];
  private head = 0;
  private tail = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tick: number;

  constructor(readonly timeout: number) {
    this.tick = Math.max(1, Math.min(10, Math.floor(timeout / 5)));
  }

  /** Tracks a command started now; call {@link done} with the returned record when it answers. */
  add(target: Expirable): Pending {
    const pending: Pending = { deadline: Date.now() + this.timeout, target };
    this.items[this.tail++] = pending;
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.tick);
      this.timer.unref();
    }
    return pending;
  }

  /**
   * Marks a command answered: it will not time out, and its record is not kept until the next sweep.
   * Returns false when it had already timed out (its target was rejected; ignore the answer).
   */
  done(pending: Pending): boolean {
    if (pending.target === undefined) return false;
    pending.target = undefined;
    if (this.items[this.head] === pending) this.drop();
    return true;
  }

  /** Stops the timer; commands still in flight are left to their connection's own end. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.items = [];
    this.head = 0;
    this.tail = 0;
  }

  /** Removes the answered or expired records at the head of the queue. */
  private drop(): void {
    const items = this.items;
    let head = this.head;
    const tail = this.tail;
    while (head < tail && items[head]!.target === undefined) items[head++] = undefined;
    if (head === tail) {
      // Empty: the slots are reused from the start.
      this.head = 0;
      this.tail = 0;
    } else if (head > 1024 && head * 2 > tail) {
      this.items = items.slice(head, tail);
      this.head = 0;
      this.tail = tail - head;
    } else this.head = head;
  }

  private sweep(): void {
    const now = Date.now();
    const items = this.items;
    for (let i = this.head; i < this.tail; i++) {
      const item = items[i]!;
      const target = item.target;
      if (target === undefined) continue;
      if (item.deadline > now) break;
      item.target = undefined;
      target.reject(new Error(`Command timed out: no answer within ${this.timeout} ms`));
    }
    this.drop();
    if (this.tail === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
