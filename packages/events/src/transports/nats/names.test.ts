import { describe, expect, it } from 'vitest';
import { EventsPublishInvalidError } from '../../errors.js';
import { checkEventName, checkStreamName, decodeIdToken, encodeIdToken, NatsNames } from './names.js';
import { parseAckReply } from './pull-source.js';

const KV_KEY = /^[-/=.\w]+$/;
const CONSUMER_NAME = /^[^.*>\s]+$/;

describe('nats names', () => {
  const names = new NatsNames('bp_shop');

  it('puts events on <stream>.<event> and replays on a subject of their group only', () => {
    expect(names.subject('order.placed')).toBe('bp_shop.order.placed');
    expect(names.replaySubject('billing', 'order.placed')).toBe('bp_shop_replay.billing.order.placed');
    expect(names.deadBucket).toBe('bp_shop_dead');
    expect(names.inboxBucket('billing')).toBe('bp_shop_inbox_billing');
  });

  it('gives each (group, event) its own valid durable name, even when names differ only by "." and "_"', () => {
    const a = names.durable('billing', 'order.placed');
    const b = names.durable('billing', 'order_placed');
    expect(a).toMatch(/^billing__order_placed_[0-9a-z]+$/);
    expect(a).not.toBe(b);
    expect(a).toMatch(CONSUMER_NAME);
    const long = names.durable('g'.repeat(128), `e${'.x'.repeat(60)}`);
    expect(long.length).toBeLessThanOrEqual(200);
    expect(long).toMatch(CONSUMER_NAME);
  });

  it('keeps every event id as one KV key token and reads it back', () => {
    for (const id of ['0190d3c4-7b2a-7c3e-8f00-123456789abc', 'order-1', 'a.b', 'x_y', 'tilde~1', 'Z']) {
      const token = encodeIdToken(id);
      expect(token).toMatch(KV_KEY);
      expect(token).not.toContain('.');
      expect(decodeIdToken(token)).toBe(id);
    }
    expect(encodeIdToken('order-1')).toBe('order-1');
    expect(names.deadKey('billing', 'order.placed', 'a.b')).toMatch(KV_KEY);
    expect(names.inboxKey('order.placed', 'x~y')).toMatch(KV_KEY);
  });

  it('filters dead letters by group, event, both or neither', () => {
    expect(names.deadFilter(undefined, undefined)).toBe('>');
    expect(names.deadFilter('billing', undefined)).toBe('billing.>');
    expect(names.deadFilter(undefined, 'order.placed')).toBe('*.order.placed.*');
    expect(names.deadFilter('billing', 'order.placed')).toBe('billing.order.placed.*');
  });

  it('refuses event names with an empty subject token and stream names NATS refuses', () => {
    expect(() => checkEventName('order..placed', EventsPublishInvalidError)).toThrow(
      expect.objectContaining({
        code: 'EVENTS_PUBLISH_INVALID',
        message: expect.stringContaining('"order.placed"'),
      }),
    );
    expect(() => checkEventName('order.placed', EventsPublishInvalidError)).not.toThrow();
    for (const bad of ['', 'a.b', 'a b', 'a*', 'x'.repeat(65)]) {
      expect(() => checkStreamName(bad)).toThrow(expect.objectContaining({ code: 'EVENTS_CONFIG_INVALID' }));
    }
    expect(() => checkStreamName('bp_shop-1')).not.toThrow();
  });

  it('reads the delivery count and stream sequence from both ack subject layouts', () => {
    expect(parseAckReply('$JS.ACK.S.c.3.41.7.1795613086439958577.0')).toEqual({ deliveries: 3, seq: 41 });
    expect(parseAckReply('$JS.ACK.dom.hash.S.c.2.9.5.1795613086439958577.4.rnd')).toEqual({
      deliveries: 2,
      seq: 9,
    });
    expect(parseAckReply('_INBOX.abc')).toBeUndefined();
    expect(parseAckReply('$JS.ACK.S.c.x.41.7.1.0')).toBeUndefined();
  });
});
