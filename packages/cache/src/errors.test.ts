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

  it('have one exported class each, with its code and status, named in the README', () => {
    const exported = Object.values(cache).filter(
      (value): value is (typeof cache.CACHE_ERRORS)[number] =>
        typeof value === 'function' && typeof (value as { code?: unknown }).code === 'string',
    );
    expect(new Set(exported)).toEqual(new Set(cache.CACHE_ERRORS));
    expect(Object.keys(cache.CACHE_ERROR_CODES)).toHaveLength(cache.CACHE_ERRORS.length);
    for (const ErrorClass of cache.CACHE_ERRORS) {
      const error = new ErrorClass('something went wrong', { details: { a: 1 } });
      expect(error).toBeInstanceOf(BlueprintError);
      expect(error.name).toBe(ErrorClass.name);
      expect(error.code).toBe(ErrorClass.code);
      expect(error.status).toBe(cache.CACHE_ERROR_CODES[ErrorClass.code]);
      expect(readme).toContain(`\`${ErrorClass.name}\``);
    }
  });

  it('are coded Blueprint errors that the guards recognise by code', () => {
    const error = new cache.CacheUnavailableError('down', { details: { reason: 'timeout' } });
    expect(error).toBeInstanceOf(BlueprintError);
    expect(error.status).toBe(503);
    expect(cache.isCacheError(error)).toBe(true);
    expect(cache.isCacheUnavailableError(error)).toBe(true);
    expect(cache.isCacheError(error, 'CACHE_VALUE_INVALID')).toBe(false);
    expect(cache.isCacheError(new BlueprintError('NOT_FOUND', 'other area'))).toBe(false);
    expect(cache.isCacheError(Object.assign(new Error('plain'), { code: 'CACHE_VALUE_INVALID' }))).toBe(
      false,
    );
    expect(cache.isCacheUnavailableError(new BlueprintError('CACHE_STORE_UNAVAILABLE', 'another copy'))).toBe(
      true,
    );
  });
});
