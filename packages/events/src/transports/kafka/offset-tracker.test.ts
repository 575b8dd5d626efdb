/** The committable position of a partition. */
import { describe, expect, it } from 'vitest';
import { OffsetTracker } from './offset-tracker.js';

describe('OffsetTracker', () => {
  it('commits only below the first offset taken and not done', () => {
    const tracker = new OffsetTracker();
    expect(tracker.position).toBe(-1);
    for (const offset of [10, 11, 12, 13]) tracker.take(offset);
    expect(tracker.position).toBe(10);
    tracker.done(12);
    tracker.done(11);
    expect(tracker.position).toBe(10);
    tracker.done(10);
    expect(tracker.position).toBe(13);
    expect(tracker.dirty).toBe(true);
    tracker.committed = 13;
    expect(tracker.dirty).toBe(false);
    tracker.done(13);
    expect(tracker.position).toBe(14);
    expect(tracker.next).toBe(14);
  });

  it('ignores offsets it never took', () => {
    const tracker = new OffsetTracker();
    tracker.take(5);
    tracker.done(4);
    tracker.done(6);
    expect(tracker.position).toBe(5);
  });
});
