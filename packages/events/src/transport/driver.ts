/**
 * Event transports as drivers: each transport is a folder exporting one descriptor made with core's
 * `defineDriver({ type, schema, create })`, whose zod schema is the single source of its options.
 */
import { parseOptions } from '@blueprint/core/plugin';
import { type DriverDescriptor, defineDriver } from '@blueprint/core/transport';
import type { z } from 'zod';
import { EventsConfigError } from '../errors.js';
import type { EventTransport } from './event-transport.js';

/** What the events plugin passes to a transport's `create` besides its options. */
export interface EventTransportContext {
  /** The app's name: the default namespace of what the transport keeps (key prefix, stream name). */
  readonly appName?: string | undefined;
  /** Where background errors go (reconnects, failed writes). */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** The descriptor of an event transport. */
export type EventTransportDriver<
  Type extends string = string,
  Schema extends z.ZodObject = z.ZodObject,
  Context extends EventTransportContext = EventTransportContext,
> = DriverDescriptor<Type, Schema, EventTransport, Context>;

/** Any event transport descriptor, as `eventsPlugin({ transports })` takes them. */
export type AnyEventTransportDriver = DriverDescriptor<string, z.ZodObject, EventTransport, any>;

/** The options a transport's factory takes: its schema's input, without `type`. */
export type TransportOptionsOf<Schema extends z.ZodObject> = Omit<z.input<Schema>, 'type'>;

/**
 * Parses options given in code with the descriptor's schema (the one the topology section uses):
 * defaults filled in, durations in ms. Throws `EVENTS_CONFIG_INVALID` naming each bad option.
 *
 * @example
 * const parsed = parseTransportOptions(natsTransportDriver, options, 'createNatsTransport(options)');
 */
export function parseTransportOptions<Schema extends z.ZodObject>(
  driver: { readonly type: string; readonly schema: Schema },
  options: object,
  subject: string,
): z.output<Schema> {
  return parseOptions(
    driver.schema,
    { ...options, type: driver.type },
    { subject, error: EventsConfigError },
  );
}

/** A transport class: built from its parsed options and the context. */
export type TransportClass<Schema extends z.ZodObject, Context extends EventTransportContext> = new (
  options: z.output<Schema>,
  context: Context,
) => EventTransport;

/**
 * The descriptor of a transport whose module is imported only when a topology selects it: `create`
 * awaits `load()` for the class, then builds a new transport from its parsed options and the context
 * (the context defaults to `{}`). An app on the memory transport never loads a broker's code.
 *
 * @example
 * export const natsTransportDriver = transportDriver('nats', natsTransportSchema, async () =>
 *   (await import('./transport.js')).NatsTransport);
 */
export function transportDriver<
  Type extends string,
  Schema extends z.ZodObject,
  Context extends EventTransportContext,
>(
  type: Type,
  schema: Schema,
  load: () => Promise<TransportClass<Schema, Context>>,
): EventTransportDriver<Type, Schema, Context> {
  return defineDriver({
    type,
    schema,
    create: async (options: z.output<Schema>, context = {} as Context): Promise<EventTransport> =>
      new (await load())(options, context),
  });
}

/**
 * The factory a transport exports for use in code (`createNatsTransport(options)`): options parsed with
 * its descriptor's schema, then a new `Transport`. Nothing connects until the bus connects. Throws
 * `EVENTS_CONFIG_INVALID` naming each bad option, with `name` in the message.
 *
 * @example
 * export const createNatsTransport = transportFactory(natsTransportDriver, NatsTransport, 'createNatsTransport');
 */
export function transportFactory<Schema extends z.ZodObject, Context extends EventTransportContext>(
  driver: EventTransportDriver<string, Schema, Context>,
  Transport: TransportClass<Schema, Context>,
  name: string,
): (options?: TransportOptionsOf<Schema>, context?: Context) => EventTransport {
  const subject = `${name}(options)`;
  return (options = {} as TransportOptionsOf<Schema>, context = {} as Context) =>
    new Transport(parseTransportOptions(driver, options, subject), context);
}
