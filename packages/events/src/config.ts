/**
 * The `events` section of the topology: which transport carries events, with its options, and the
 * defaults of handlers. It is the union of the registered transport descriptors (the built-in ones and
 * those given to `eventsPlugin({ transports })`), discriminated by `type`; an unknown type is an error
 * listing the allowed ones. Every type also takes the bus-level keys (`busShape`).
 *
 * @example
 * "events": { "type": "redis-streams", "url": "${EVENTS_REDIS_URL:-redis://127.0.0.1:6379}", "visibilityTimeout": "30s" }
 */
import { driverFor, driverOptions, driverSectionSchema } from '@blueprint/core/transport';
import { z } from 'zod';
import { busShape } from './bus-options.js';
import type { HandlerDefaults } from './event-bus.js';
import type { AnyEventTransportDriver, EventTransportContext } from './transport/driver.js';
import type { EventTransport } from './transport/event-transport.js';
import { kafkaTransportDriver } from './transports/kafka/driver.js';
import { memoryTransportDriver } from './transports/memory/index.js';
import { natsTransportDriver } from './transports/nats/driver.js';
import { redisStreamsTransportDriver } from './transports/redis-streams/driver.js';

/** The transports every events section may select: `memory`, `redis-streams`, `nats`, `kafka`. */
export const BUILT_IN_TRANSPORTS: readonly AnyEventTransportDriver[] = Object.freeze([
  memoryTransportDriver,
  redisStreamsTransportDriver,
  natsTransportDriver,
  kafkaTransportDriver,
]);

const busSchema = z.object(busShape);

/** The parsed `events` section: the bus-level keys, `type`, and the selected transport's options. */
export type EventsConfig = z.output<typeof busSchema> & {
  readonly type: string;
  readonly [option: string]: unknown;
};

/**
 * The schema of the `events` section for the given transports (default: the built-in ones).
 *
 * @example
 * const schema = eventsSectionSchema([...BUILT_IN_TRANSPORTS, kafkaTransportDriver]);
 */
export function eventsSectionSchema(
  transports: readonly AnyEventTransportDriver[] = BUILT_IN_TRANSPORTS,
): z.ZodType<EventsConfig> {
  return driverSectionSchema('event transport', transports, busShape) as unknown as z.ZodType<EventsConfig>;
}

/** Builds the transport a parsed section selects, with the options of its schema. Connects nothing. */
export async function transportFromConfig(
  transports: readonly AnyEventTransportDriver[],
  config: EventsConfig,
  context: EventTransportContext,
): Promise<EventTransport> {
  const driver = driverFor(transports, config.type);
  return driver.create(driverOptions(driver, config), context);
}

/** The handler defaults a section sets. */
export function handlerDefaultsFromConfig(config: EventsConfig): HandlerDefaults {
  const defaults: Record<string, unknown> = {};
  for (const key of ['maxAttempts', 'concurrency', 'backoff', 'inbox'] as const) {
    if (config[key] !== undefined) defaults[key] = config[key];
  }
  return defaults as HandlerDefaults;
}
