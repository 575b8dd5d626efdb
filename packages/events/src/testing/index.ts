/**
 * @blueprint/events/testing — the event transport conformance suite (vitest), for the built-in
 * transports and for your own.
 */
export {
  describeEventTransportConformance,
  type EventTransportConformanceOptions,
} from './event-transport-conformance.js';
