/**
 * @blueprint/events/testing — the event transport conformance suite and the outbox store conformance
 * suite (vitest), for the built-in transports and stores and for your own.
 */
export {
  describeEventTransportConformance,
  type EventTransportConformanceOptions,
} from './event-transport-conformance.js';
export {
  describeOutboxStoreConformance,
  type OutboxStoreConformanceOptions,
} from './outbox-store-conformance.js';
