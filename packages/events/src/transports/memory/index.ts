/**
 * @blueprint/events/transports/memory — the `memory` transport: events stay in this process, with the
 * brokers' delivery rules (groups, retries after a backoff, dead letters, the inbox) and a bounded
 * queue per group. For one-process topologies and tests.
 *
 * @example
 * "events": { "type": "memory" }
 */
import { defineDriver } from '@blueprint/core/transport';
import { EventsConfigError } from '../../errors.js';
import { parseTransportOptions } from '../../transport/driver.js';
import type { EventTransport } from '../../transport/event-transport.js';
import { MemoryBroker } from './broker.js';
import { type MemoryTransportOptions, memoryTransportSchema } from './options.js';
import { MemoryTransport } from './transport.js';

export { MEMORY_INBOX_LIMIT, MemoryBroker } from './broker.js';
export { type MemoryTransportOptions, memoryTransportSchema, type OnFull } from './options.js';

/** What `createMemoryTransport` takes besides its options. */
export interface MemoryTransportContext {
  /**
   * A broker shared with other transports: buses on one broker behave like processes on one broker
   * (replicas of a group share its events). Default: a private broker, closed with the transport. When
   * given, the broker's own options apply.
   */
  readonly broker?: MemoryBroker | undefined;
}

/** The `memory` transport's descriptor. */
export const memoryTransportDriver = defineDriver({
  type: 'memory',
  schema: memoryTransportSchema,
  create: (options, context: MemoryTransportContext = {}): EventTransport =>
    context.broker === undefined
      ? new MemoryTransport(new MemoryBroker(options), true)
      : new MemoryTransport(context.broker, false),
});

/**
 * Creates an in-process broker to share between memory transports. Throws `EVENTS_CONFIG_INVALID`
 * naming a bad option.
 *
 * @example
 * const broker = createMemoryBroker({ maxQueue: 1000 });
 * const replicaA = createEventBus({ transport: createMemoryTransport({}, { broker }) });
 * const replicaB = createEventBus({ transport: createMemoryTransport({}, { broker }) });
 */
export function createMemoryBroker(options: MemoryTransportOptions = {}): MemoryBroker {
  return new MemoryBroker(
    parseTransportOptions(memoryTransportDriver, options, 'createMemoryBroker(options)'),
  );
}

/**
 * Creates the `memory` transport, on a private broker made with `options` or on a shared `broker`.
 * Throws `EVENTS_CONFIG_INVALID` naming a bad option.
 *
 * @example
 * const bus = createEventBus({ transport: createMemoryTransport({ maxQueue: 1000, onFull: 'fail' }) });
 */
export function createMemoryTransport(
  options: MemoryTransportOptions = {},
  context: MemoryTransportContext = {},
): EventTransport {
  if (context.broker !== undefined && Object.values(options).some((value) => value !== undefined)) {
    throw new EventsConfigError(
      'createMemoryTransport: give either a shared broker or broker options, not both; set options on createMemoryBroker',
    );
  }
  return memoryTransportDriver.create(
    parseTransportOptions(memoryTransportDriver, options, 'createMemoryTransport(options)'),
    context,
  ) as EventTransport;
}
