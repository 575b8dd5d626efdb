/**
 * `@OnEvent`: marks a service method as an event handler. The decorator only records metadata; the
 * events plugin subscribes the handlers of the services hosted in a process when it is ready, in a
 * consumer group named after the service.
 */
import {
  type DualMethodDecorator,
  getMethodMetadata,
  methodDecorator,
  methodNamesOf,
} from '@blueprint/core/plugin';
import { type AnyEvent, isEventDefinition, type PayloadOf } from './define-event.js';
import { EventsHandlerError } from './errors.js';
import type { EventMeta, HandlerOptions } from './handler.js';

/** Options of {@link OnEvent}: each falls back to the topology's `events` defaults. */
export interface OnEventOptions extends HandlerOptions {}

/** A handler found on a class. */
export interface HandlerDeclaration {
  /** The method name. */
  readonly method: string;
  /** The definitions it handles (versions of one event). */
  readonly events: readonly AnyEvent[];
  /** Its options. */
  readonly options: OnEventOptions;
}

const METADATA_KEY = 'events:on';

/**
 * What `@OnEvent(event)` returns: a method decorator for legacy (`experimentalDecorators`) and TC39
 * standard decorators alike, whose method must take the event's payload.
 */
export type OnEventDecorator<E extends AnyEvent> = DualMethodDecorator &
  (<T extends (payload: PayloadOf<E>, meta: EventMeta) => unknown>(
    prototype: object,
    method: string | symbol,
    descriptor: TypedPropertyDescriptor<T>,
  ) => void);

interface Recorded {
  readonly events: readonly AnyEvent[];
  readonly options: OnEventOptions;
}

/**
 * Handles an event in a service method. The method receives the payload (parsed by the event's schema)
 * and the event's {@link EventMeta}; it throws to have the event retried. Works with legacy
 * (`experimentalDecorators`) and standard decorators; on anything but a method it throws `APP_INVALID`.
 *
 * @example
 * class BillingService {
 *   @OnEvent(OrderPlaced, { maxAttempts: 3, inbox: true })
 *   async onOrderPlaced(order: PayloadOf<typeof OrderPlaced>, meta: EventMeta) { ... }
 * }
 */
export function OnEvent<E extends AnyEvent>(
  event: E | readonly E[],
  options: OnEventOptions = {},
): OnEventDecorator<E> {
  const events: readonly AnyEvent[] = Array.isArray(event) ? event : [event as AnyEvent];
  if (events.length === 0 || !events.every(isEventDefinition)) {
    throw new EventsHandlerError(
      '@OnEvent needs an event made by defineEvent (or a list of versions of one event)',
    );
  }
  const recorded: Recorded = { events, options };
  return methodDecorator(`@OnEvent(${events[0]!.name})`, (site) => {
    site.record(METADATA_KEY, recorded);
  }) as OnEventDecorator<E>;
}

/**
 * The `@OnEvent` handlers of a class (or instance). Throws `EVENTS_HANDLER_INVALID` when two methods
 * handle the same event name: a service is one consumer group and handles an event once.
 */
export function eventHandlersOf(
  target: (abstract new (...args: never[]) => object) | object,
): HandlerDeclaration[] {
  const instance: object =
    typeof target === 'function' ? Object.create((target as { prototype: object }).prototype) : target;
  const handlers: HandlerDeclaration[] = [];
  for (const method of methodNamesOf(instance)) {
    const recorded = getMethodMetadata<Recorded>(instance, method, METADATA_KEY);
    if (recorded === undefined) continue;
    const name = recorded.events[0]!.name;
    const twin = handlers.find((h) => h.events[0]!.name === name);
    if (twin !== undefined) {
      const className = (instance.constructor as { name?: string } | undefined)?.name ?? 'the service';
      throw new EventsHandlerError(
        `${className} handles "${name}" twice (${twin.method} and ${method}); a service is one consumer group: merge them into one handler`,
      );
    }
    handlers.push({ method, events: recorded.events, options: recorded.options });
  }
  return handlers;
}
