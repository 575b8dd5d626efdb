/**
 * The `observability` section of the topology: log level, metrics and tracing switches. Optional; every
 * key has a default, so an app without the section logs at `info`, collects metrics (served by the admin listener)
 * and traces when the user registered an OpenTelemetry SDK.
 */
import { z } from 'zod';
import { flagSchema } from '../units.js';

/** Log levels, from the most verbose; `silent` logs nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** A log level name. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `observability.metrics`. */
const metricsSchema = z.strictObject({
  /** Collect and serve metrics. Default: true. */
  enabled: flagSchema.optional().default(true),
});

/** `observability.tracing`. */
const tracingSchema = z.strictObject({
  /**
   * Create spans and propagate `traceparent` when an OpenTelemetry SDK is registered. Without an SDK,
   * tracing costs one check per call. Default: true.
   */
  enabled: flagSchema.optional().default(true),
});

/** The `observability` section of the topology. */
export const observabilitySchema = z.strictObject({
  /**
   * Log level of the process. The `LOG_LEVEL` environment variable wins when set. Default: `"info"`.
   */
  logLevel: z.enum(LOG_LEVELS, { error: `unknown log level; allowed: ${LOG_LEVELS.join(', ')}` }).optional(),
  /** Metrics. Default: `{ "enabled": true }`. */
  metrics: metricsSchema.optional().default({ enabled: true }),
  /** Tracing. Default: `{ "enabled": true }`. */
  tracing: tracingSchema.optional().default({ enabled: true }),
});

/** The parsed `observability` section. */
export type ObservabilityTopology = z.output<typeof observabilitySchema>;

/** The section's value when the topology has none. */
export const DEFAULT_OBSERVABILITY: ObservabilityTopology = Object.freeze({
  metrics: { enabled: true },
  tracing: { enabled: true },
});
