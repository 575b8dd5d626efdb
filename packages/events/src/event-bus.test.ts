import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { alwaysFails } from '../../../test/harness/handlers.js';
import { defineEvent } from './define-event.js';
import { isEventsError } from './errors.js';
import { createEventBus } from './event-bus.js';
import { createMemoryTransport } from './transports/memory/index.js';

const Ping = defineEvent('ping', z.object({ n: z.number() }));
const Other = defineEvent('other', z.object({}));

describe('createEventBus', () => {
  it('connects on first use and publishes through the transport', async () => {
    const bus = createEventBus({ transport: createMemoryTransport() });
    const seen: number[] = [];
    await bus.subscribe(Ping, (p) => void seen.push(p.n), { group: 'g' });
    await bus.publish(Ping, { n: 1 });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(seen).toEqual([1]);
    await bus.stop();
    await bus.stop();
  });

  it('refuses bad subscriptions with EVENTS_HANDLER_INVALID', async () => {
    const bus = createEventBus({ transport: createMemoryTransport() });
    const handler = () => undefined;
    await expect(bus.subscribe(Ping, handler, { group: 'has.dot' })).rejects.toThrow(
      /invalid group "has.dot"/,
    );
    await expect(bus.subscribe([], handler, { group: 'g' })).rejects.toThrow(
      /needs an event made by defineEvent/,
    );
    await expect(bus.subscribe([Ping, Other] as never, handler, { group: 'g' })).rejects.toThrow(
      /versions of one event/,
    );
    await expect(bus.subscribe(Ping, handler, { group: 'g', concurrency: 0 })).rejects.toThrow(
      /concurrency: invalid count 0/,
    );
    await expect(bus.subscribe(Ping, handler, { group: 'g', maxAttempts: 1.5 })).rejects.toThrow(
      /maxAttempts: invalid count 1.5/,
    );
    await bus.subscribe(Ping, handler, { group: 'g' });
    const twice = await bus.subscribe(Ping, handler, { group: 'g' }).catch((e: unknown) => e);
    expect(isEventsError(twice, 'EVENTS_HANDLER_INVALID')).toBe(true);
    expect((twice as Error).message).toContain('already has a handler for "ping"');
    await bus.stop();
  });

  it('refuses bad publish options with EVENTS_PUBLISH_INVALID and stores nothing', async () => {
    const bus = createEventBus({ transport: createMemoryTransport() });
    await expect(bus.publish(Ping, { n: 1 }, { id: 'has space' })).rejects.toMatchObject({
      code: 'EVENTS_PUBLISH_INVALID',
    });
    await expect(bus.publish(Ping, { n: 1 }, { headers: { 'x-n': 1 as unknown as string } })).rejects.toThrow(
      /header "x-n" must be a string/,
    );
    await expect(bus.publish(Ping, { n: 1 }, { key: 5 as unknown as string })).rejects.toThrow(
      /invalid key 5/,
    );
    await expect(bus.publishMany(Ping, [{ n: 1 }], { ids: ['a', 'b'] })).rejects.toThrow(
      /1 payloads but 2 ids/,
    );
    expect(bus.stats().published).toBe(0);
    await bus.stop();
  });

  it('reports handler failures to onError with the event meta', async () => {
    const errors: { message: string; kind: string; attempt: number | undefined }[] = [];
    const bus = createEventBus({
      transport: createMemoryTransport(),
      onError: (error, context) => {
        errors.push({
          message: (error as Error).message,
          kind: context.kind,
          attempt: context.meta?.attempt,
        });
        throw new Error('a broken reporter must not break delivery');
      },
    });
    await bus.subscribe(Ping, alwaysFails('boom'), { group: 'g', maxAttempts: 1 });
    await bus.publish(Ping, { n: 1 });
    for (let i = 0; i < 50 && errors.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 1));
    expect(errors).toEqual([{ message: 'boom', kind: 'handler', attempt: 1 }]);
    expect(await bus.deadLetters.list()).toHaveLength(1);
    await bus.stop();
  });

  it('needs a transport', () => {
    expect(() => createEventBus({} as never)).toThrow(/needs a transport/);
  });
});
