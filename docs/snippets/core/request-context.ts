import assert from 'node:assert/strict';
import * as blueprint from '@blueprint/core';
// #region read
import { requestContext } from '@blueprint/core';

/** The correlation id of the call or event being handled, wherever this runs inside one. */
export function correlationId(): string | undefined {
  return requestContext()?.headers?.['x-correlation-id'];
}
// #endregion read

assert.equal(correlationId(), undefined);
assert.equal(
  blueprint.runWithRequestContext({ headers: { 'x-correlation-id': 'c-1' } }, () => correlationId()),
  'c-1',
);
