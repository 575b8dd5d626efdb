/** Timers a component starts and must clear when it stops, so none keeps the process alive. */

/** A set of `unref`ed timeouts, cleared together. */
export class TimerSet {
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Number of timers waiting. */
  get size(): number {
    return this.timers.size;
  }

  /** Runs `fn` after `ms`, unless the set is cleared first. The timer does not keep the process alive. */
  after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  /** Clears every waiting timer. */
  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
