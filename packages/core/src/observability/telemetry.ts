/**
 * The telemetry of one process: a logger, a metrics registry and tracing helpers. `createApp` makes one
 * per process, registers it as `Tokens.Telemetry` and hands it to plugins as `ctx.telemetry`.
 */
import { DEFAULT_OBSERVABILITY, type ObservabilityTopology } from './config.js';
import { createLogger, type LogDestination, type Logger, resolveLogLevel } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createTracing, type Tracing } from './tracing.js';

/**
 * Logs, metrics and traces of a process.
 *
 * @example
 * const log = ctx.telemetry.logger.child({ component: 'events' });
 * const handled = ctx.telemetry.metrics.counter({ name: 'blueprint_events_handled_total', help: 'Events handled.', labelNames: ['event', 'group', 'code'] });
 * const span = ctx.telemetry.startSpan('order.placed process', { kind: 'consumer', parentHeaders: envelope.headers });
 */
export interface Telemetry extends Tracing {
  /** The process logger (pino). Make a child per component: `logger.child({ component: 'cache' })`. */
  readonly logger: Logger;
  /** The process's metrics registry and helpers. */
  readonly metrics: Metrics;
  /** True when the topology enables tracing (spans are still skipped while no SDK is registered). */
  readonly tracingEnabled: boolean;
}

/** Options of {@link createTelemetry}. */
export interface CreateTelemetryOptions {
  /** App name: base field `app` of log lines, label `app` of metrics. */
  readonly app: string;
  /** Process name: base field `process`, label `process`. */
  readonly process: string;
  /** The topology's `observability` section. Default: everything on, level `info`. */
  readonly config?: ObservabilityTopology | undefined;
  /** Environment, for `LOG_LEVEL`. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Where log lines go. Default: standard output. */
  readonly logDestination?: LogDestination | undefined;
}

/**
 * Creates the telemetry of one process. Opens no socket. The first one with metrics enabled installs
 * prom-client's Node.js process collectors (a GC observer and an event-loop delay monitor, shared by the
 * apps of this Node process; neither keeps it alive).
 */
export function createTelemetry(options: CreateTelemetryOptions): Telemetry {
  const config = options.config ?? DEFAULT_OBSERVABILITY;
  const logger = createLogger({
    app: options.app,
    process: options.process,
    level: resolveLogLevel(config.logLevel, options.env ?? process.env),
    destination: options.logDestination,
  });
  const metrics = createMetrics({
    app: options.app,
    process: options.process,
    enabled: config.metrics.enabled,
  });
  const tracing = createTracing(config.tracing.enabled);
  return {
    logger,
    metrics,
    tracingEnabled: config.tracing.enabled,
    tracer: tracing.tracer,
    tracingActive: tracing.tracingActive,
    startSpan: tracing.startSpan,
    injectHeaders: tracing.injectHeaders,
    extractContext: tracing.extractContext,
  };
}
