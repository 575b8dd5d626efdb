/**
 * @blueprint/resilience/testing — helpers for tests of code that uses retry policies.
 */
export { type RecordedDelays, recordDelays } from './record-delays.js';
