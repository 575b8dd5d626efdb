/**
 * `eventsPlugin()`: joins the event bus to an app. It owns the topology section `events` (the union of
 * the registered transport descriptors), registers the {@link EventBus} under `EventsTokens.Bus`, and
 * follows the app lifecycle:
 *
 * - `onStart`: connect the producer and declare the consumer group of every service of the app that has
 *   `@OnEvent` handlers (so events published before a consumer starts still reach it; services may
 *   publish in their own `onStart`);
 * - `onReady`: subscribe the handlers of the services hosted in this process, one group per service;
 * - `onDrain`: stop taking events, let running handlers finish, ack them;
 * - `onStop`: close connections (services may still publish in their own `onStop`).
 *
 * With `auth` in the topology, the bus signs what it publishes and dead-letters (reason `signature`)
 * what it receives without a valid signature, with a key derived from the topology's secret.
 *
 * The bus records the process's `blueprint_events_*` metrics, traces publishes and handler runs, and
 * logs one line per handled event; `describe(app)` gives `blueprint graph` the events and their handlers.
 */
import { type AppDefinition, type InjectionToken, TopologyError } from '@blueprint/core';
import {
  type EventDescription,
  type MessageSigner,
  messageSigner,
  type Plugin,
  type PluginContext,
  type PluginDescription,
} from '@blueprint/core/plugin';
import {
  BUILT_IN_TRANSPORTS,
  type EventsConfig,
  eventsSectionSchema,
  handlerDefaultsFromConfig,
  transportFromConfig,
} from './config.js';
import { eventsDashboardSection } from './dashboard-section.js';
import { type BusErrorContext, createEventBus, type EventBus, type EventBusOptions } from './event-bus.js';
import type { EventHandler } from './handler.js';
import { eventHandlersOf, type HandlerDeclaration } from './on-event.js';
import type { AnyEventTransportDriver } from './transport/driver.js';
import type { EventTransport, GroupBinding } from './transport/event-transport.js';

/**
 * The tokens the events plugin registers in the process container.
 *
 * @example
 * constructor(@inject(EventsTokens.Bus) private readonly bus: EventBus) {}
 */
export const EventsTokens = {
  /** The process's {@link EventBus}. */
  Bus: Symbol.for('blueprint:events:bus') as InjectionToken<EventBus>,
} as const;

/** Options of {@link eventsPlugin}. */
export interface EventsPluginOptions {
  /**
   * A transport to use instead of the one the topology describes (tests, a custom broker). The bus
   * closes it when the app stops. With it, the topology's `events` section may be left out.
   */
  readonly transport?: EventTransport;
  /**
   * Transport descriptors the `events` section may select besides the built-in `memory`,
   * `redis-streams` and `nats` (your own, a Kafka one...). Default: none.
   *
   * @example
   * eventsPlugin({ transports: [kafkaTransportDriver] })
   */
  readonly transports?: readonly AnyEventTransportDriver[];
  /** Called for handler failures and background transport errors (log them here). Default: nothing. */
  readonly onError?: (error: unknown, context: BusErrorContext) => void;
}

async function setupEvents(
  ctx: PluginContext<EventsConfig>,
  options: EventsPluginOptions,
  transports: readonly AnyEventTransportDriver[],
): Promise<void> {
  const config = ctx.config;
  if (config === undefined && options.transport === undefined) {
    throw new TopologyError(
      'topology.events is missing: the app uses eventsPlugin(); add e.g. "events": { "type": "memory" } (one process) or { "type": "redis-streams", "url": "redis://..." }',
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
    (await transportFromConfig(transports, config!, {
      appName: ctx.app.name,
      onError: (error) => onError(error, { kind: 'transport' }),
    }));
  const processes = Object.keys(ctx.topology.processes);
  if (options.transport === undefined && transport.crossesProcesses === false && processes.length > 1) {
    await transport.close();
    throw new TopologyError(
      `topology.events.type: "${config!.type}" keeps events inside one process, but this topology has ${processes.length} (${processes.join(', ')}); events would never reach the others: use "redis-streams" or "nats"`,
    );
  }
  const bus = createEventBus({
    transport,
    groups,
    defaults: config === undefined ? {} : handlerDefaultsFromConfig(config),
    drainTimeout: config?.drainTimeout ?? ctx.topology.shutdownTimeout,
    ...(config?.inboxRetention === undefined ? {} : { inboxRetention: config.inboxRetention }),
    onError,
    telemetry: ctx.telemetry,
    ...publishDeclarations(ctx),
    ...signerOption(messageSigner(ctx.topology, 'events')),
  });
  ctx.container.register(EventsTokens.Bus, { useValue: bus });
  ctx.addHealthCheck('events', () => bus.health(), { kind: 'dependency' });
  if (usesEventsAtStart(ctx, handlers)) {
    ctx.onStart(() => bus.connect());
    ctx.addDashboardSection('events', eventsDashboardSection(bus, transport, ctx.telemetry));
  }
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

/** The services this process hosts. */
function hostedContracts(ctx: PluginContext<EventsConfig>) {
  return ctx.app.services
    .filter((s) => ctx.process.services.includes(s.contract.name))
    .map((s) => s.contract);
}

/**
 * Whether the process connects to the broker when it starts, failing the start when the broker is
 * down: when it hosts a handler or a service that declares what it publishes. Any other process
 * connects on its first publish, so one that neither publishes nor consumes starts without the broker.
 */
function usesEventsAtStart(
  ctx: PluginContext<EventsConfig>,
  handlers: ReadonlyMap<string, HandlerDeclaration[]>,
): boolean {
  return hostedContracts(ctx).some((c) => handlers.has(c.name) || c.publishes.length > 0);
}

/**
 * The publish check: once any contract of the app declares `publishes`, a process warns the first time
 * it publishes an event that none of its services declares.
 */
function publishDeclarations(ctx: PluginContext<EventsConfig>): Pick<EventBusOptions, 'publishes'> {
  if (!ctx.app.services.some((s) => s.contract.publishes.length > 0)) return {};
  const hosted = hostedContracts(ctx);
  const declared = [...new Set(hosted.flatMap((c) => c.publishes))];
  const logger = ctx.telemetry.logger.child({ component: 'events' });
  return {
    publishes: {
      declared,
      onUndeclared: (event) =>
        logger.warn(
          { event, services: hosted.map((c) => c.name), declared },
          `process "${ctx.process.name}" published "${event}", which none of its services (${hosted.map((c) => c.name).join(', ')}) declares: add the event to "publishes" of the contract whose service publishes it`,
        ),
    },
  };
}

/**
 * The events of an app for `blueprint graph`: each event some service handles, with its subscribers
 * (the services with an `@OnEvent` handler for it). Publishers come from the contracts' `publishes`.
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
  const transports = [...BUILT_IN_TRANSPORTS, ...(options.transports ?? [])];
  return {
    name: 'events',
    section: { key: 'events', schema: eventsSectionSchema(transports) },
    setup: (ctx) => setupEvents(ctx, options, transports),
    describe: describeEvents,
  };
}

/** The bus's `signer` option: present only when the topology authenticates calls. */
function signerOption(signer: MessageSigner | undefined): { signer?: MessageSigner } {
  return signer === undefined ? {} : { signer };
}
