// #region check
import assert from 'node:assert/strict';
import { checkEventCompatibility, defineEvent } from '@blueprint/events';
import { z } from 'zod';

// What runs now, and what the change deploys: a new optional field.
const OrderPlacedBefore = defineEvent('order.placed', z.object({ orderId: z.string(), total: z.number() }));
const OrderPlaced = defineEvent(
  'order.placed',
  z.object({ orderId: z.string(), total: z.number(), coupon: z.string().optional() }),
);

assert.deepEqual(checkEventCompatibility(OrderPlacedBefore, OrderPlaced), []); // old consumers, new events
assert.deepEqual(checkEventCompatibility(OrderPlaced, OrderPlacedBefore), []); // new consumers, old events
// #endregion check

// Making the coupon required at once would break new consumers of the events old publishers still send.
const Required = defineEvent(
  'order.placed',
  z.object({ orderId: z.string(), total: z.number(), coupon: z.string() }),
);
assert.deepEqual(checkEventCompatibility(Required, OrderPlacedBefore), [
  'order.placed payload.coupon: the consumer requires it, the publisher does not send it',
]);
