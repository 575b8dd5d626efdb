import assert from 'node:assert/strict';
import { defineError, isBlueprintError } from '@blueprint/core';

try {
  // #region errors
  const OutOfStockError = defineError('OUT_OF_STOCK', 409); // a ServiceError subclass, name OutOfStockError
  throw new OutOfStockError('product p1 has 3 left, 5 requested', { details: { available: 3 } });
  // #endregion errors
} catch (error) {
  assert.ok(isBlueprintError(error));
  assert.equal(error.name, 'OutOfStockError');
  assert.equal(error.code, 'OUT_OF_STOCK');
  assert.equal(error.status, 409);
  assert.deepEqual(error.details, { available: 3 });
}
