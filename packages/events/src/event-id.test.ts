import { describe, expect, it } from 'vitest';
import { createEventId, EVENT_ID } from './event-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('createEventId', () => {
  it('makes UUID v7 ids carrying the millisecond', () => {
    const now = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    const id = createEventId(now);
    expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
    expect(id).toMatch(EVENT_ID);
  });

  it('sorts ids of one process in creation order, within one millisecond too', () => {
    const now = Date.now() + 60_000;
    const ids = Array.from({ length: 5_000 }, () => createEventId(now));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => UUID_V7.test(id))).toBe(true);
  });

  it('never goes back in time when the clock does', () => {
    const later = createEventId(Date.now() + 120_000);
    expect(createEventId(Date.now())).toEqual(expect.any(String));
    expect(createEventId(Date.now()) > later).toBe(true);
  });
});
