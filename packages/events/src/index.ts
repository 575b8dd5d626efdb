/**
 * @blueprint/events — typed events on one bus: in process, on Redis Streams, on NATS JetStream, with
 * the same delivery guarantees. This entry is what an application uses.
 *
 * Other audiences use subpaths: each transport is its own (`@blueprint/events/transports/memory`,
 * `.../redis-streams`, `.../nats`: its descriptor and its factory), `@blueprint/events/transport` holds
 * what a transport author needs, and `@blueprint/events/testing` the transport conformance suite.
 */
export { checkEventCompatibility } from './compatibility.js';
export { type EventsConfig, eventsSectionSchema } from './config.js';
export {
  type AnyEvent,
  type DefineEventOptions,
  defineEvent,
  type EventDefinition,
  isEventDefinition,
  type PayloadInput,
  type PayloadOf,
} from './define-event.js';
export type { EventEnvelope, EventHeaders } from './envelope.js';
export {
  EVENTS_ERROR_CODES,
  EVENTS_ERRORS,
  EventsBrokerUnavailableError,
  EventsBusClosedError,
  EventsConfigError,
  EventsDeadLetterNotFoundError,
  EventsDefinitionError,
  EventsDriverMissingError,
  type EventsError,
  type EventsErrorCode,
  EventsHandlerError,
  EventsPublishInvalidError,
  EventsPublishTimeoutError,
  EventsQueueFullError,
  isEventsError,
} from './errors.js';
export {
  type BusErrorContext,
  createEventBus,
  type EventBus,
  type EventBusOptions,
  type EventBusStats,
  type HandlerDefaults,
  type PublishDeclarations,
  type Subscription,
} from './event-bus.js';
export { eventFingerprint } from './event-fingerprint.js';
export { createEventId } from './event-id.js';
export type { SubscriptionStats } from './group-consumer.js';
export type { EventHandler, EventMeta, HandlerOptions, SubscribeOptions } from './handler.js';
export { EVENTS_METRICS } from './instruments.js';
export { OnEvent, type OnEventOptions } from './on-event.js';
export { type EventsPluginOptions, EventsTokens, eventsPlugin } from './plugin.js';
export type { PublishManyOptions, PublishOptions } from './publishing.js';
export type {
  DeadLetter,
  DeadLetterFilter,
  DeadLetterReason,
  DeadLetterStore,
} from './transport/event-transport.js';
