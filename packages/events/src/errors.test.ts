import { readFileSync } from 'node:fs';
import { BlueprintError, isBlueprintError } from '@blueprint/core';
import { describe, expect, it } from 'vitest';
import {
  EVENTS_ERROR_CODES,
  EVENTS_ERRORS,
  EventsBusClosedError,
  EventsQueueFullError,
  eventsErrorClass,
  isEventsError,
} from './errors.js';
import * as barrel from './index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('errors', () => {
  it('has one class per code, every one exported and documented in the README with its status', () => {
    expect(Object.keys(EVENTS_ERROR_CODES)).toHaveLength(10);
    expect(new Set(EVENTS_ERRORS.map((cls) => cls.code)).size).toBe(EVENTS_ERRORS.length);
    for (const cls of EVENTS_ERRORS) {
      expect(EVENTS_ERROR_CODES[cls.code]).toBe(cls.status);
      expect((barrel as Record<string, unknown>)[cls.name]).toBe(cls);
      expect(eventsErrorClass(cls.code as never)).toBe(cls);
      expect(readme).toMatch(new RegExp(`\\| \`${cls.code}\`\\s*\\| ${cls.status}\\s*\\|`));
    }
  });

  it('guards compare codes, not classes', () => {
    const error = new EventsQueueFullError('full', { details: { maxQueue: 1 } });
    expect(error).toBeInstanceOf(BlueprintError);
    expect(error).toMatchObject({
      name: 'EventsQueueFullError',
      code: 'EVENTS_QUEUE_FULL',
      status: 503,
      details: { maxQueue: 1 },
    });
    expect(isBlueprintError(error)).toBe(true);
    expect(isEventsError(error)).toBe(true);
    expect(isEventsError(error, 'EVENTS_QUEUE_FULL')).toBe(true);
    expect(isEventsError(error, 'EVENTS_BUS_CLOSED')).toBe(false);
    expect(isEventsError(new EventsBusClosedError('closed'), 'EVENTS_BUS_CLOSED')).toBe(true);
    const copy = Object.assign(new Error('from another installed copy'), {
      code: 'EVENTS_BUS_CLOSED',
      [Symbol.for('blueprint:error')]: true,
    });
    expect(isEventsError(copy, 'EVENTS_BUS_CLOSED')).toBe(true);
    expect(isEventsError(copy)).toBe(true);
    expect(isEventsError({ code: 'EVENTS_BUS_CLOSED' })).toBe(false);
    expect(isEventsError(Object.assign(new Error('plain'), { code: 'EVENTS_BUS_CLOSED' }))).toBe(false);
  });
});
