import { readFileSync } from 'node:fs';
import { BlueprintError } from '@blueprint/core';
import { describe, expect, it } from 'vitest';
import * as cache from './index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('error codes', () => {
  it('are all documented in the README with their status', () => {
    for (const [code, status] of Object.entries(cache.CACHE_ERROR_CODES)) {
      expect(readme).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`));
    }
  });

  it('are coded Blueprint errors that the guards recognise by code', () => {
    const error = new cache.CacheError('CACHE_STORE_UNAVAILABLE', 'down', { details: { reason: 'timeout' } });
    expect(error).toBeInstanceOf(BlueprintError);
    expect(error.status).toBe(503);
    expect(cache.isCacheError(error)).toBe(true);
    expect(cache.isCacheUnavailableError(error)).toBe(true);
    expect(cache.isCacheError(error, 'CACHE_VALUE_INVALID')).toBe(false);
    expect(cache.isCacheError(new BlueprintError('NOT_FOUND', 'other area'))).toBe(false);
    expect(cache.isCacheError(Object.assign(new Error('plain'), { code: 'CACHE_VALUE_INVALID' }))).toBe(
      false,
    );
  });
});
