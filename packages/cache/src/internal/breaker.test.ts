import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Breaker, type BreakerState } from './breaker.js';

describe('Breaker', () => {
  let changes: string[];
  let breaker: Breaker;

  beforeEach(() => {
    vi.useFakeTimers();
    changes = [];
    breaker = new Breaker({
      threshold: 3,
      openFor: 2_000,
      onChange: (state: BreakerState, previous: BreakerState) => changes.push(`${previous}->${state}`),
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens after `threshold` consecutive failures, not before', () => {
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('closed');
    expect(breaker.allow()).toBe(true);
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.allow()).toBe(false);
    expect(changes).toEqual(['closed->open']);
  });

  it('lets one probe through after openFor; success closes it', () => {
    for (let i = 0; i < 3; i++) breaker.failure();
    vi.advanceTimersByTime(1_999);
    expect(breaker.allow()).toBe(false);
    vi.advanceTimersByTime(1);
    expect(breaker.allow()).toBe(true);
    expect(breaker.state).toBe('half-open');
    expect(breaker.allow()).toBe(false);
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(breaker.allow()).toBe(true);
    expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('a failed probe opens it again for another openFor', () => {
    for (let i = 0; i < 3; i++) breaker.failure();
    vi.advanceTimersByTime(2_000);
    expect(breaker.allow()).toBe(true);
    breaker.failure();
    expect(breaker.state).toBe('open');
    vi.advanceTimersByTime(1_000);
    expect(breaker.allow()).toBe(false);
    vi.advanceTimersByTime(1_000);
    expect(breaker.allow()).toBe(true);
    expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->open', 'open->half-open']);
  });

  it('ignores late failures of calls started before it opened', () => {
    for (let i = 0; i < 3; i++) breaker.failure();
    breaker.failure();
    breaker.failure();
    vi.advanceTimersByTime(2_000);
    expect(breaker.allow()).toBe(true);
    expect(changes).toEqual(['closed->open', 'open->half-open']);
  });

  it('keeps no timer', () => {
    for (let i = 0; i < 3; i++) breaker.failure();
    expect(vi.getTimerCount()).toBe(0);
  });
});
