import { readFileSync } from 'node:fs';
import { NotFoundError } from '@blueprint/core';
import { describe, expect, it } from 'vitest';
import * as http from './index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('the error table', () => {
  it('exports every error class and documents every code with its status in the README', () => {
    for (const cls of http.HTTP_ERRORS) {
      expect(Object.values(http)).toContain(cls);
      expect(readme).toMatch(new RegExp(`\\| \`${cls.code}\` +\\| ${cls.status} +\\|`));
    }
  });

  it('guards this package’s errors only', () => {
    expect(http.isHttpError(new http.PayloadTooLargeError('big'))).toBe(true);
    expect(http.isHttpError(new NotFoundError('no route'))).toBe(false);
    expect(http.isHttpError(new Error('plain'))).toBe(false);
  });
});
