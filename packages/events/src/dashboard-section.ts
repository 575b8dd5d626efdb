/**
 * The `events` section of the development dashboard: this process's subscriptions with their counters,
 * and the dead letters with `replay` and `discard` (the bus API's operations, with its checks).
 */
import type { Telemetry } from '@blueprint/core';
import { type DashboardSection, parseOrThrow } from '@blueprint/core/plugin';
import { z } from 'zod';
import type { EventBus } from './event-bus.js';
import { EVENTS_METRICS } from './instruments.js';
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

/** Events this process stored, by event name (`blueprint_events_published_total` with code `OK`). */
async function publishedByEvent(telemetry: Telemetry | undefined): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (telemetry === undefined || !telemetry.metrics.enabled) return out;
  const metric = telemetry.metrics.registry.getSingleMetric(EVENTS_METRICS.published);
  if (metric === undefined) return out;
  for (const { labels, value } of (await metric.get()).values) {
    if (labels.code !== 'OK' || typeof labels.event !== 'string') continue;
    out[labels.event] = (out[labels.event] ?? 0) + value;
  }
  return out;
}

/**
 * The `events` dashboard section of `bus` over `transport`; with the process's `telemetry`, it counts
 * what was published per event too.
 */
export function eventsDashboardSection(
  bus: EventBus,
  transport: EventTransport,
  telemetry?: Telemetry,
): DashboardSection {
  const idOf = (input: unknown) => parseOrThrow(actionInput, input, 'dead-letter action', 'input').id;
  return {
    async read() {
      const stats = bus.stats();
      const letters = await bus.deadLetters.list({ limit: LISTED });
      return {
        published: stats.published,
        publishFailed: stats.publishFailed,
        publishedByEvent: await publishedByEvent(telemetry),
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
