/** Options of the `memory` transport: one zod schema for the topology section and for code. */
import { durationSchema, flagSchema } from '@blueprint/core/plugin';
import { z } from 'zod';
import { atLeastOne } from '../../internal/schemas.js';
import type { TransportOptionsOf } from '../../transport/driver.js';

/**
 * `events` with `type: "memory"`: in-process, with the brokers' delivery rules; nothing survives the
 * process.
 *
 * @example
 * "events": { "type": "memory", "maxQueue": 1000, "onFull": "fail" }
 */
export const memoryTransportSchema = z.strictObject({
  type: z.literal('memory'),
  /**
   * Most events waiting per group (events being handled do not count). When a slow handler lets its
   * queue fill up, `publish` waits for room or fails (see `onFull`) instead of growing memory. Default: 10000.
   */
  maxQueue: atLeastOne.optional().default(10_000),
  /** `"wait"`: publish waits for room (up to `publishTimeout`); `"fail"`: it rejects with `EVENTS_QUEUE_FULL`. Default: `"wait"`. */
  onFull: z.enum(['wait', 'fail'], { error: 'use "wait" or "fail"' }).optional().default('wait'),
  /** How long a publish waits for room before rejecting with `EVENTS_PUBLISH_TIMEOUT`. Default: `"10s"`. */
  publishTimeout: durationSchema.optional().default(10_000),
  /**
   * Encode each event once and give every group its own decoded copy, as a broker would: catches
   * handlers that mutate a shared payload or rely on values the codec cannot carry. Default: false
   * (groups share the payload object parsed at publish).
   */
  serialize: flagSchema.optional().default(false),
});

/** Options of `createMemoryTransport` and `createMemoryBroker` (durations are ms or strings like `"10s"`). */
export type MemoryTransportOptions = TransportOptionsOf<typeof memoryTransportSchema>;

/** The options of a memory broker once parsed: defaults filled in, durations in ms. */
export type MemoryBrokerSettings = Omit<z.output<typeof memoryTransportSchema>, 'type'>;

/** What `publish` does when a group's queue is full. */
export type OnFull = MemoryBrokerSettings['onFull'];
