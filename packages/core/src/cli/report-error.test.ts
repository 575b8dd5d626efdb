import { describe, expect, it } from 'vitest';
import { TopologyError } from '../errors.js';
import { formatError } from './report-error.js';

describe('formatError', () => {
  it('prints a coded error as its code and message, with the stack and cause only when verbose', () => {
    const error = new TopologyError('invalid topology t.json', { cause: new Error('ENOENT') });
    expect(formatError(error, false)).toBe('[TOPOLOGY_INVALID] invalid topology t.json');
    const verbose = formatError(error, true);
    expect(verbose).toMatch(/^\[TOPOLOGY_INVALID\] invalid topology t\.json\n\s+at /);
    expect(verbose).toContain('caused by: Error: ENOENT');
  });

  it('prints the stack of an uncoded error, which is a bug to find', () => {
    expect(formatError(new TypeError('x is undefined'), false)).toMatch(/^TypeError: x is undefined\n\s+at /);
    expect(formatError('plain', false)).toBe('plain');
  });
});
