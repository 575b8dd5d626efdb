import { createTelemetry } from '@blueprint/core/plugin';
import { waitFor } from '@blueprint/core/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventsDashboardSection } from './dashboard-section.js';
import { defineEvent } from './define-event.js';
import { createEventBus } from './event-bus.js';
import { createMemoryTransport } from './transports/memory/index.js';

const Ping = defineEvent('ping', z.object({ n: z.number() }));

describe('the events dashboard section', () => {
  it('lists a dead letter with its payload, reason and attempts; refuses bad ids; replays it to a fixed handler', async () => {
    const transport = createMemoryTransport();
    const telemetry = createTelemetry({ app: 't', process: 'p', logDestination: { write: () => undefined } });
    const bus = createEventBus({ transport, telemetry });
    let broken = true;
    const handled: number[] = [];
    await bus.subscribe(
      Ping,
      async ({ n }) => {
        if (broken) throw new Error('not yet');
        handled.push(n);
      },
      { group: 'g', maxAttempts: 1 },
    );
    const section = eventsDashboardSection(bus, transport, telemetry);
    await bus.publish(Ping, { n: 7 }, { headers: { 'x-correlation-id': 'c-7' } });
    await waitFor(async () => ((await section.read()) as any).deadLetters.length === 1);
    const data = (await section.read()) as any;
    const [letter] = data.deadLetters;
    expect(letter).toMatchObject({
      group: 'g',
      event: 'ping',
      payload: { n: 7 },
      correlationId: 'c-7',
      attempts: 1,
      reason: { kind: 'max-attempts', message: 'handler of group "g" failed 1 time(s); last error: not yet' },
    });
    expect(data.publishedByEvent).toEqual({ ping: 1 });
    expect(data.subscriptions).toEqual([
      expect.objectContaining({ group: 'g', event: 'ping', deadLettered: 1, handled: 0 }),
    ]);

    const refusal = async (action: string, input: unknown) =>
      section.actions![action]!(input).then(
        () => 'accepted',
        (error: { code: string }) => error.code,
      );
    expect(await refusal('replay', { id: 'g:ping:unknown' })).toBe('EVENTS_DEAD_LETTER_NOT_FOUND');
    expect(await refusal('discard', { id: 'g:ping:unknown' })).toBe('EVENTS_DEAD_LETTER_NOT_FOUND');
    expect(await refusal('replay', { id: 42 })).toBe('VALIDATION_FAILED');
    expect(await refusal('replay', { id: letter.id, more: true })).toBe('VALIDATION_FAILED');
    expect(((await section.read()) as any).deadLetters).toHaveLength(1);

    broken = false;
    expect(await section.actions!.replay!({ id: letter.id })).toEqual({ replayed: letter.id });
    await waitFor(() => handled.length === 1);
    expect(handled).toEqual([7]);
    expect(((await section.read()) as any).deadLetters).toEqual([]);
    await bus.stop();
  });
});
