/**
 * `eventsPlugin()`: joins the event bus to an app. It owns the topology section `events`, registers the
 * {@link EventBus} under {@link EventBusToken}, and follows the app lifecycle:
 *
 * - `onStart`: connect the producer and declare the consumer group of every service of the app that has
 *   `@OnEvent` handlers (so events published before a consumer starts still reach it; services may
 *   publish in their own `onStart`);
 * - `onReady`: subscribe the handlers of the services hosted in this process, one group per service;
 * - `onDrain`: stop taking events, let running handlers finish, ack them;
 * - `onStop`: close connections (services may still publish in their own `onStop`).
 *
 * The bus records the process's `blueprint_events_*` metrics, traces publishes and handler runs, and
 * logs one line per handled event; `describe(app)` gives `blueprint graph` the events and their handlers.
 */
import {
  type AppDefinition,
  type EventDescription,
  type InjectionToken,
  type Plugin,
  type PluginContext,
  type PluginDescription,
  TopologyError,
} from '@blueprint/core';
import {
  createTransportFromConfig,
  type EventsConfig,
  eventsSectionSchema,
  handlerDefaultsFromConfig,
} from './config.js';
import { type BusErrorContext, createEventBus, type EventBus } from './event-bus.js';
import type { EventHandler } from './handler.js';
import { eventHandlersOf, type HandlerDeclaration } from './on-event.js';
import type { EventTransport, GroupBinding } from './transport.js';

/**
 * The token of the process's {@link EventBus}.
 *
 * @example
 * constructor(@inject(EventBusToken) private readonly bus: EventBus) {}
 */
export const EventBusToken = Symbol.for('blueprint:events:bus') as InjectionToken<EventBus>;

/** Options of {@link eventsPlugin}. */
export interface EventsPluginOptions {
  /**
   * A transport to use instead of the one the topology describes (tests, a custom broker). The bus
   * closes it when the app stops. With it, the topology's `events` section may be left out.
   */
  readonly transport?: EventTransport;
  /** Called for handler failures and background transport errors (log them here). Default: nothing. */
  readonly onError?: (error: unknown, context: BusErrorContext) => void;
}

function setupEvents(ctx: PluginContext<EventsConfig>, options: EventsPluginOptions): void {
  const config = ctx.config;
  if (config === undefined && options.transport === undefined) {
    throw new TopologyError(
      'topology.events is missing: the app uses eventsPlugin(); add e.g. "events": { "type": "memory" } (one process) or { "type": "redis-streams", "url": "redis://..." }',
    );
  }
  const processes = Object.keys(ctx.topology.processes);
  if (config?.type === 'memory' && processes.length > 1) {
    throw new TopologyError(
      `topology.events.type: "memory" keeps events inside one process, but this topology has ${processes.length} (${processes.join(', ')}); events would never reach the others: use "redis-streams"`,
    );
  }
  const handlers = new Map<string, HandlerDeclaration[]>();
  const groups: GroupBinding[] = [];
  for (const { contract, implementation } of ctx.app.services) {
    const declared = eventHandlersOf(implementation);
    if (declared.length === 0) continue;
    handlers.set(contract.name, declared);
    for (const handler of declared) groups.push({ event: handler.events[0]!.name, group: contract.name });
  }
  const onError = (error: unknown, context: BusErrorContext) => options.onError?.(error, context);
  const transport =
    options.transport ??
    createTransportFromConfig(config!, {
      appName: ctx.app.name,
      onError: (error) => onError(error, { kind: 'transport' }),
    });
  const bus = createEventBus({
    transport,
    groups,
    defaults: config === undefined ? {} : handlerDefaultsFromConfig(config),
    drainTimeout: config?.drainTimeout ?? ctx.topology.shutdownTimeout,
    ...(config?.inboxRetention === undefined ? {} : { inboxRetention: config.inboxRetention }),
    onError,
    telemetry: ctx.telemetry,
  });
  ctx.container.register(EventBusToken, { useValue: bus });
  ctx.addHealthCheck('events', () => bus.health());
  ctx.onStart(() => bus.connect());
  ctx.onReady(async () => {
    for (const { contract, instance } of ctx.hostedServices()) {
      for (const { method, events, options: handlerOptions } of handlers.get(contract.name) ?? []) {
        const target = instance as Record<string, EventHandler>;
        await bus.subscribe(events, (payload, meta) => target[method]!(payload, meta), {
          ...handlerOptions,
          group: contract.name,
        });
      }
    }
  });
  ctx.onDrain(() => bus.drain());
  ctx.onStop(() => bus.stop());
}

/**
 * The events of an app for `blueprint graph`: each event some service handles, with its subscribers
 * (the services with an `@OnEvent` handler for it). Publishers are not declared anywhere, so they are
 * left unknown.
 */
export function describeEvents(app: AppDefinition): PluginDescription {
  const subscribers = new Map<string, string[]>();
  for (const { contract, implementation } of app.services) {
    for (const handler of eventHandlersOf(implementation)) {
      const event = handler.events[0]!.name;
      const list = subscribers.get(event);
      if (list === undefined) subscribers.set(event, [contract.name]);
      else if (!list.includes(contract.name)) list.push(contract.name);
    }
  }
  const events: EventDescription[] = [...subscribers].map(([event, services]) => ({
    event,
    subscribers: services,
  }));
  return { events };
}

/**
 * The events plugin. Add it to the app's plugins and an `events` section to the topology.
 *
 * @example
 * export const app = defineApp({ name: 'shop', services: [...], plugins: [eventsPlugin()] });
 * // topology: "events": { "type": "redis-streams", "url": "${REDIS_URL:-redis://127.0.0.1:6379}" }
 */
export function eventsPlugin(options: EventsPluginOptions = {}): Plugin<EventsConfig> {
  return {
    name: 'events',
    section: { key: 'events', schema: eventsSectionSchema },
    setup: (ctx) => setupEvents(ctx, options),
    describe: describeEvents,
  };
}
