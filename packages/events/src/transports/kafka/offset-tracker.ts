/**
 * What a consumer of one partition may commit: Kafka commits a position, so an offset is committable
 * only once it and every offset before it that this consumer took are done.
 */

/** The offsets of one partition taken and not yet committed. */
export class OffsetTracker {
  private readonly taken: { offset: number; done: boolean }[] = [];
  private byOffset = new Map<number, { offset: number; done: boolean }>();
  private end = -1;
  /** The position last committed (or being committed). */
  committed = -1;

  /** Records that `offset` (higher than every one taken before) was taken. */
  take(offset: number): void {
    const entry = { offset, done: false };
    this.taken.push(entry);
    this.byOffset.set(offset, entry);
    this.end = offset + 1;
  }

  /** Marks `offset` done. */
  done(offset: number): void {
    const entry = this.byOffset.get(offset);
    if (entry === undefined) return;
    entry.done = true;
    while (this.taken.length > 0 && this.taken[0]!.done) this.byOffset.delete(this.taken.shift()!.offset);
  }

  /** The offset after the last one taken (-1 before any). */
  get next(): number {
    return this.end;
  }

  /** The position to commit: the first offset not done, or the one after the last taken; -1 when nothing was taken. */
  get position(): number {
    return this.taken.length > 0 ? this.taken[0]!.offset : this.end;
  }

  /** True when the position moved past what was committed. */
  get dirty(): boolean {
    return this.position > this.committed;
  }
}
