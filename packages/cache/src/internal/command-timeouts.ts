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
   * Failed with a "timed out" error when the deadline passes. Set it to `undefined` once the command
   * answered: the sweep skips it, and the command is not kept alive until the next sweep.
   */
  target: Expirable | undefined;
}

/** A queue of in-flight commands, swept every few ms; overdue ones are expired. */
export class CommandTimeouts {
  private items: Pending[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tick: number;

  constructor(readonly timeout: number) {
    this.tick = Math.max(1, Math.min(10, Math.floor(timeout / 5)));
  }

  /** Tracks a command started now; clear `target` on the returned record when it answers. */
  add(target: Expirable): Pending {
    const pending: Pending = { deadline: Date.now() + this.timeout, target };
    this.items.push(pending);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.tick);
      this.timer.unref();
    }
    return pending;
  }

  /** Stops the timer; commands still in flight are left to their connection's own end. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.items = [];
    this.head = 0;
  }

  private sweep(): void {
    const now = Date.now();
    const items = this.items;
    let head = this.head;
    while (head < items.length) {
      const item = items[head]!;
      const target = item.target;
      if (target !== undefined) {
        if (item.deadline > now) break;
        item.target = undefined;
        target.reject(new Error(`Command timed out: no answer within ${this.timeout} ms`));
      }
      items[head] = undefined as never;
      head++;
    }
    if (head === items.length) {
      this.items = [];
      this.head = 0;
      clearInterval(this.timer);
      this.timer = undefined;
    } else if (head > 1024 && head * 2 > items.length) {
      this.items = items.slice(head);
      this.head = 0;
    } else this.head = head;
  }
}
