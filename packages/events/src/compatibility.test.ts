import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { waitFor } from '../../../test/harness/index.js';
import { checkEventCompatibility } from './compatibility.js';
import { defineEvent } from './define-event.js';
import { decodeEnvelope, encodeEnvelope } from './envelope.js';
import { createEventBus, type EventBus } from './event-bus.js';
import { eventFingerprint } from './event-fingerprint.js';
import { createMemoryBroker, createMemoryTransport, type MemoryBroker } from './transports/memory/index.js';

const V1 = defineEvent('order.placed', z.object({ orderId: z.string(), totalCents: z.number().int() }));
const WithCoupon = defineEvent(
  'order.placed',
  z.object({ orderId: z.string(), totalCents: z.number().int(), coupon: z.string().optional() }),
);
const WithRegion = defineEvent(
  'order.placed',
  z.object({ orderId: z.string(), totalCents: z.number().int(), region: z.string() }),
);

describe('event schema compatibility', () => {
  it('gives equal schemas one fingerprint, whatever the definition, and another to a changed one', () => {
    const again = defineEvent(
      'order.placed',
      z.object({ orderId: z.string(), totalCents: z.number().int() }),
    );
    expect(eventFingerprint(V1)).toMatch(/^[0-9a-f]{16}$/);
    expect(eventFingerprint(again)).toBe(eventFingerprint(V1));
    expect(eventFingerprint(WithCoupon)).not.toBe(eventFingerprint(V1));
  });

  it('lets a new optional field pass both ways, and names what breaks a consumer', () => {
    expect(checkEventCompatibility(V1, WithCoupon)).toEqual([]);
    expect(checkEventCompatibility(WithCoupon, V1)).toEqual([]);
    expect(checkEventCompatibility(WithRegion, V1)).toEqual([
      'order.placed payload.region: the consumer requires it, the publisher does not send it',
    ]);
    // Old consumers of the new events: region is one more field, which a plain object ignores.
    expect(checkEventCompatibility(V1, WithRegion)).toEqual([]);
    const strict = defineEvent(
      'order.placed',
      z.strictObject({ orderId: z.string(), totalCents: z.number() }),
    );
    expect(checkEventCompatibility(strict, WithCoupon)).toEqual([
      'order.placed payload.coupon: the other side refuses unknown fields',
    ]);
    const changed = defineEvent('order.placed', z.object({ orderId: z.number(), totalCents: z.number() }));
    expect(checkEventCompatibility(V1, changed)).toEqual([
      'order.placed payload.orderId: the publisher sends number, the other side takes string',
      'order.placed payload.totalCents: the publisher sends number, the other side takes integer',
    ]);
    const colour = (values: [string, ...string[]]) =>
      defineEvent('paint.mixed', z.object({ colour: z.enum(values) }));
    expect(checkEventCompatibility(colour(['red', 'blue']), colour(['red', 'blue', 'green']))).toEqual([
      'paint.mixed payload.colour: green not accepted by the other side',
    ]);
  });

  it('names a version the consumer does not take, and refuses two different events', () => {
    const v2 = defineEvent('order.placed', V1.schema, { version: 2 });
    expect(checkEventCompatibility(V1, v2)).toEqual([
      'order.placed: the publisher sends v2, the consumer takes v1; a consumer takes only the versions its handler lists',
    ]);
    const other = defineEvent('order.shipped', V1.schema);
    expect(() => checkEventCompatibility(V1, other)).toThrow(
      expect.objectContaining({ code: 'EVENTS_DEFINITION_INVALID' }),
    );
  });

  it("carries the publisher's fingerprint in the envelope, and refuses a malformed one", async () => {
    const transport = createMemoryTransport({}, { broker: createMemoryBroker() });
    const bus = createEventBus({ transport });
    const texts: string[] = [];
    const publish = transport.publish.bind(transport);
    transport.publish = (envelope) => {
      texts.push(encodeEnvelope(envelope));
      return publish(envelope);
    };
    await bus.publish(WithCoupon, { orderId: 'o1', totalCents: 100 });
    await bus.stop();
    const text = texts[0]!;
    expect(text).toContain(`"version":1,"fingerprint":"${eventFingerprint(WithCoupon)}"`);
    expect(decodeEnvelope(text).fingerprint).toBe(eventFingerprint(WithCoupon));
    for (const bad of ['"x"', '5', `"${'a'.repeat(4000)}"`]) {
      expect(() => decodeEnvelope(text.replace(/"fingerprint":"[0-9a-f]+"/, `"fingerprint":${bad}`))).toThrow(
        expect.objectContaining({ code: 'CODEC_INVALID', message: expect.stringContaining('"fingerprint"') }),
      );
    }
  });
});

describe('a consumer of another schema of the same event version', () => {
  let broker: MemoryBroker;
  const buses: EventBus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.stop()));
    broker.close();
  });
  const bus = () => {
    const made = createEventBus({ transport: createMemoryTransport({}, { broker }) });
    buses.push(made);
    return made;
  };

  it('dead-letters a payload refused by a refinement as invalid, not as a version difference', async () => {
    broker = createMemoryBroker();
    const consumer = bus();
    const longIds = defineEvent(
      'order.placed',
      z.object({ orderId: z.string().min(5), totalCents: z.number().int() }),
    );
    const handled: unknown[] = [];
    await consumer.subscribe(longIds, (order) => void handled.push(order), { group: 'billing' });
    await bus().publish(V1, { orderId: 'o1', totalCents: 100 });
    await waitFor(async () => (await consumer.deadLetters.list()).length === 1, {
      message: 'the dead letter',
    });
    const [letter] = await consumer.deadLetters.list();
    expect(letter!.reason).toMatchObject({ kind: 'invalid-payload', code: 'VALIDATION_FAILED' });
    expect(handled).toEqual([]);
  });

  it('names a field of the wrong type, a value outside the enum and a field a strict consumer refuses', async () => {
    broker = createMemoryBroker({ serialize: true });
    const consumer = bus();
    const Paint = defineEvent(
      'paint.mixed',
      z.strictObject({ colour: z.enum(['red', 'blue']), litres: z.number(), tags: z.array(z.string()) }),
    );
    const Newer = defineEvent(
      'paint.mixed',
      z.object({
        colour: z.enum(['red', 'blue', 'green']),
        litres: z.string(),
        tags: z.array(z.number()),
        brand: z.string(),
      }),
    );
    await consumer.subscribe(Paint, () => undefined, { group: 'shop' });
    const id = await bus().publish(Newer, { colour: 'green', litres: '2', tags: [1], brand: 'acme' });
    await waitFor(async () => (await consumer.deadLetters.list()).length === 1, {
      message: 'the dead letter',
    });
    const [letter] = await consumer.deadLetters.list();
    expect(letter!.eventId).toBe(id);
    expect(letter!.reason).toMatchObject({ kind: 'contract-mismatch', code: 'CONTRACT_MISMATCH' });
    expect((letter!.reason.details as { differences: string[] }).differences.sort()).toEqual([
      'paint.mixed payload.brand: the other side refuses unknown fields',
      'paint.mixed payload.colour: green not accepted by the other side',
      'paint.mixed payload.litres: the publisher sends string, the other side takes number',
      'paint.mixed payload.tags[]: the publisher sends integer, the other side takes string',
    ]);
  });
});
