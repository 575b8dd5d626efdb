/**
 * @blueprint/core/plugin — what a plugin author needs: the plugin seam, links of the call chain,
 * decorator metadata, telemetry, and the schemas that make every option read the same way.
 */
export type { DashboardSection } from '../app/dashboard-sections.js';
export type { HealthCheckOptions, HealthRegistry } from '../app/health.js';
export { checkTopologyAgainstApp } from '../app/placement.js';
export { resolveTopology, topologyOptionsOf } from '../app/topology-source.js';
export { type MessageSigner, messageSigner } from '../auth/message-signer.js';
export {
  type Backoff,
  type BackoffConfig,
  type BackoffDefaults,
  type BackoffFunction,
  backoffSchema,
  type ExponentialBackoff,
  exponentialBackoffSchema,
  type ToBackoffOptions,
  toBackoffFunction,
} from '../backoff.js';
export {
  composeChain,
  type Invocation,
  LINK_STAGES,
  type Link,
  type LinkEntry,
  type LinkHandler,
  type LinkStage,
  type LinkTarget,
  orderLinks,
} from '../chain/link.js';
export { applyMethodLinks, type MethodLinksTarget, methodNamesOf } from '../chain/method-links.js';
export {
  type DualMethodDecorator,
  getMethodMetadata,
  type MethodDecoratorSite,
  methodDecorator,
  setMethodMetadata,
} from '../chain/method-metadata.js';
export {
  type CallObservers,
  createCallObservers,
  type ObservabilityLinkOptions,
  observabilityLink,
} from '../chain/observability-link.js';
export { type LocalCallOptions, validationLink } from '../chain/validation-link.js';
export { callDeadline } from '../contract.js';
export { DeadlineEntry, DeadlineQueue } from '../deadline-queue.js';
export {
  LOG_LEVELS,
  type LogLevel,
  type ObservabilityTopology,
  observabilitySchema,
} from '../observability/config.js';
export { errorFields, type LogDestination, type LoggedError, type Logger } from '../observability/logger.js';
export {
  type CounterOptions,
  DURATION_BUCKETS,
  type GaugeOptions,
  type HistogramOptions,
  type MetricOptions,
  type Metrics,
} from '../observability/metrics.js';
export { histogramQuantileMs } from '../observability/quantile.js';
export {
  HistogramTally,
  type TallyHistogramOptions,
  type TallySeries,
} from '../observability/tally-histogram.js';
export { type CreateTelemetryOptions, createTelemetry, type Telemetry } from '../observability/telemetry.js';
export {
  errorCodeOf,
  type SpanHandle,
  type SpanKindName,
  type StartSpanOptions,
  type Tracing,
  tracerRegistered,
} from '../observability/tracing.js';
export { type ParseOptionsOptions, parseOptions } from '../options.js';
export { closestName, didYouMean } from '../suggest.js';
export { abortError, delay } from '../timing.js';
export { readTopologyFile, readTopologyJson, type TopologyFile, type TopologySection } from '../topology.js';
export {
  byteSizeSchema,
  countSchema,
  type Duration,
  durationSchema,
  flagSchema,
  parseByteSize,
  parseDuration,
  portSchema,
  wholeNumberSchema,
} from '../units.js';
export { parseOrThrow, toValidationIssues, type ValidationTarget } from '../validation.js';
export {
  definePlugin,
  type EventDescription,
  type HostedService,
  type LifecycleHook,
  type Plugin,
  type PluginAppView,
  type PluginContext,
  type PluginDescription,
} from './define-plugin.js';
