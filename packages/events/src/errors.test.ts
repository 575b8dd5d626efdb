import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENTS_ERROR_CODES, EventsError, isEventsError } from './errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('errors', () => {
  it('documents every code in the README with its status', () => {
    for (const [code, status] of Object.entries(EVENTS_ERROR_CODES)) {
      expect(readme).toMatch(new RegExp(`\\| \`${code}\`\\s*\\| ${status}\\s*\\|`));
    }
  });

  it('guards compare codes, not classes', () => {
    const error = new EventsError('EVENTS_QUEUE_FULL', 'full', { details: { maxQueue: 1 } });
    expect(error).toMatchObject({ code: 'EVENTS_QUEUE_FULL', status: 503, details: { maxQueue: 1 } });
    expect(isEventsError(error)).toBe(true);
    expect(isEventsError(error, 'EVENTS_QUEUE_FULL')).toBe(true);
    expect(isEventsError(error, 'EVENTS_BUS_CLOSED')).toBe(false);
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
