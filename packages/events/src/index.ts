/**
 * @blueprint/events — typed events on one bus: in process, on Redis Streams, on NATS JetStream, with
 * the same delivery guarantees.
 */
export {
  type Backoff,
  type BackoffFunction,
  DEFAULT_BACKOFF,
  type ExponentialBackoff,
  toBackoffFunction,
} from './backoff.js';
export {
  createTransportFromConfig,
  type EventsConfig,
  eventsSectionSchema,
  type MemoryEventsConfig,
  memoryEventsSchema,
  type NatsEventsConfig,
  natsEventsSchema,
  type RedisStreamsEventsConfig,
  redisStreamsEventsSchema,
  type TransportContext,
} from './config.js';
export {
  type AnyEvent,
  type DefineEventOptions,
  defineEvent,
  type EventDefinition,
  isEventDefinition,
  type PayloadInput,
  type PayloadOf,
} from './define-event.js';
export {
  decodeEnvelope,
  type EventEnvelope,
  type EventHeaders,
  encodeEnvelope,
} from './envelope.js';
export { EVENTS_ERROR_CODES, EventsError, type EventsErrorCode, isEventsError } from './errors.js';
export {
  type BusErrorContext,
  createEventBus,
  type EventBus,
  type EventBusOptions,
  type EventBusStats,
  type HandlerDefaults,
  type PublishManyOptions,
  type PublishOptions,
  type Subscription,
} from './event-bus.js';
export { createEventId } from './event-id.js';
export type { SubscriptionStats } from './group-consumer.js';
export type { EventHandler, EventMeta, HandlerOptions, SubscribeOptions } from './handler.js';
export { EVENTS_METRICS } from './instruments.js';
export { eventHandlersOf, type HandlerDeclaration, OnEvent, type OnEventOptions } from './on-event.js';
export { describeEvents, EventBusToken, type EventsPluginOptions, eventsPlugin } from './plugin.js';
export {
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterReason,
  type DeadLetterStore,
  type Delivery,
  deadLetterId,
  deadLetterNotFound,
  type EventTransport,
  type GroupBinding,
  parseDeadLetterId,
  type SubscriptionSpec,
  type TransportSubscription,
} from './transport.js';
export {
  createMemoryBroker,
  createMemoryTransport,
  MemoryBroker,
  type MemoryBrokerOptions,
  type MemoryTransportOptions,
  type OnFull,
} from './transports/memory.js';
export { createNatsTransport, NATS_DEFAULTS, type NatsTransportOptions } from './transports/nats.js';
export {
  createRedisStreamsTransport,
  REDIS_STREAMS_DEFAULTS,
  type RedisStreamsTransportOptions,
} from './transports/redis-streams.js';
