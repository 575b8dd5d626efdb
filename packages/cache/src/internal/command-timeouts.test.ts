import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CommandTimeouts } from './command-timeouts.js';

describe('CommandTimeouts', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires what has not answered by its deadline, within one sweep tick, with one timer', () => {
    const deadlines = new CommandTimeouts(50);
    const expired: string[] = [];
    const target = (name: string) => ({
      reject: (error: Error) => expired.push(`${name}: ${error.message}`),
    });
    const answered = deadlines.add(target('answered'));
    deadlines.add(target('silent'));
    vi.advanceTimersByTime(20);
    deadlines.add(target('later'));
    expect(vi.getTimerCount()).toBe(1);
    answered.target = undefined;
    vi.advanceTimersByTime(29);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(11);
    expect(expired).toEqual(['silent: Command timed out: no answer within 50 ms']);
    vi.advanceTimersByTime(30);
    expect(expired).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops its timer once nothing is in flight, and on stop()', () => {
    const deadlines = new CommandTimeouts(1_000);
    const pending = deadlines.add({ reject: () => undefined });
    pending.target = undefined;
    vi.advanceTimersByTime(10);
    expect(vi.getTimerCount()).toBe(0);
    deadlines.add({ reject: () => undefined });
    expect(vi.getTimerCount()).toBe(1);
    deadlines.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('done() takes answered commands off the queue at once, and refuses a command that already timed out', () => {
    const deadlines = new CommandTimeouts(50);
    const expired: string[] = [];
    const first = deadlines.add({ reject: () => expired.push('first') });
    const second = deadlines.add({ reject: () => expired.push('second') });
    expect(deadlines.done(second)).toBe(true);
    expect(deadlines.done(first)).toBe(true);
    expect(deadlines.done(first)).toBe(false);
    const late = deadlines.add({ reject: () => expired.push('late') });
    vi.advanceTimersByTime(60);
    expect(expired).toEqual(['late']);
    expect(deadlines.done(late)).toBe(false);
    vi.advanceTimersByTime(10);
    expect(vi.getTimerCount()).toBe(0);
  });
});
