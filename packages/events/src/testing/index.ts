/**
 * @blueprint/events/testing — the transport conformance suite (vitest), for the built-in transports and
 * for your own.
 */
export { type ConformanceHarness, describeTransportConformance } from './conformance.js';
