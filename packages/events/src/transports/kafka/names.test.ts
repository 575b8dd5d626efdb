/** Where the kafka transport keeps what: topic names and group ids under one prefix. */
import { describe, expect, it } from 'vitest';
import { defaultPrefix, KafkaNames } from './names.js';

describe('kafka names', () => {
  const names = new KafkaNames('bp.shop');

  it('gives every kind of topic its own segment under the prefix', () => {
    expect(names.events('order.placed')).toBe('bp.shop.events.order.placed');
    expect(names.retry('billing', 'order.placed')).toBe('bp.shop.retry.billing.order.placed');
    expect(names.inbox('billing')).toBe('bp.shop.inbox.billing');
    expect(names.deadLetters).toBe('bp.shop.dead-letters');
    expect(names.groupId('billing', 'order.placed')).toBe('bp.shop.billing.order.placed');
  });

  it("refuses a topic name longer than Kafka's 249 characters", () => {
    expect(() => names.events('e'.repeat(240))).toThrow(RangeError);
    expect(() => names.events('e'.repeat(240))).toThrow(
      /more than Kafka's 249: use a shorter prefix or event name/,
    );
  });

  it('defaults the prefix to bp.<app name>, with characters Kafka refuses replaced', () => {
    expect(defaultPrefix(undefined)).toBe('bp');
    expect(defaultPrefix('shop')).toBe('bp.shop');
    expect(defaultPrefix('my shop/eu')).toBe('bp.my_shop_eu');
  });
});
