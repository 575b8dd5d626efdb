/**
 * The `events` section of the development dashboard: this process's subscriptions with their counters,
 * and the dead letters with `replay` and `discard` (the bus API's operations, with its checks).
 */
import type { DashboardSection } from '@blueprint/core/plugin';
import { parseOrThrow } from '@blueprint/core/plugin';
import { z } from 'zod';
import type { EventBus } from './event-bus.js';
import type { EventTransport } from './transport/event-transport.js';

/** Dead letters the section lists at most. */
const LISTED = 200;

const actionInput = z.strictObject({
  /** The dead letter's id, `group:event:eventId`. */
  id: z.string().min(1).max(1_024),
});

/** The group's events not yet settled, or `undefined` when the transport cannot tell now. */
async function pendingOf(
  transport: EventTransport,
  group: string,
  event: string,
): Promise<number | undefined> {
  try {
    return await transport.pending?.({ group, event });
  } catch {
    return undefined;
  }
}

/** The `events` dashboard section of `bus` over `transport`. */
export function eventsDashboardSection(bus: EventBus, transport: EventTransport): DashboardSection {
  const idOf = (input: unknown) => parseOrThrow(actionInput, input, 'dead-letter action', 'input').id;
  return {
    async read() {
      const stats = bus.stats();
      const letters = await bus.deadLetters.list({ limit: LISTED });
      return {
        published: stats.published,
        publishFailed: stats.publishFailed,
        subscriptions: await Promise.all(
          stats.subscriptions.map(async (subscription) => ({
            ...subscription,
            pending: await pendingOf(transport, subscription.group, subscription.event),
          })),
        ),
        deadLetters: letters.map((letter) => ({
          id: letter.id,
          group: letter.group,
          event: letter.event,
          eventId: letter.eventId,
          payload: letter.envelope?.payload ?? letter.raw,
          correlationId: letter.envelope?.headers['x-correlation-id'],
          reason: letter.reason,
          attempts: letter.attempts,
          deadAt: letter.deadAt.toISOString(),
        })),
      };
    },
    actions: {
      async replay(input) {
        const id = idOf(input);
        await bus.deadLetters.replay(id);
        return { replayed: id };
      },
      async discard(input) {
        const id = idOf(input);
        await bus.deadLetters.discard(id);
        return { discarded: id };
      },
    },
  };
}
