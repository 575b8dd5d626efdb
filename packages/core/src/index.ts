/**
 * @blueprint/core — contracts, topology, the app lifecycle, RPC transports and the plugin seam.
 */
import 'reflect-metadata';

export {
  type AppDefinition,
  type AppDefinitionInput,
  type Constructor,
  defineApp,
  isAppDefinition,
  type OnStart,
  type OnStop,
  type Provider,
  type ServiceRegistration,
  service,
} from './app.js';
export { CODEC_TAG, type Codec, jsonCodec, parseJsonSafely, roundTrip } from './codec.js';
export {
  type DependencyContainer,
  type InjectionToken,
  inject,
  injectable,
  injectService,
  singleton,
} from './container.js';
export {
  type AnyContract,
  type CallContext,
  type ClientOf,
  type ContractOptions,
  defineService,
  type ImplementationOf,
  type InputOf,
  isContract,
  type MethodDefinition,
  type MethodDefinitions,
  type OutputOf,
  type ServiceClient,
  type ServiceContract,
  type ServiceImplementation,
} from './contract.js';
export {
  type AppState,
  type BlueprintApp,
  type CreateAppOptions,
  createApp,
  type HealthRegistry,
  type ReadinessReport,
  Tokens,
} from './create-app.js';
export * from './errors.js';
export {
  applyInterceptors,
  getMethodMetadata,
  type InterceptionKind,
  type InterceptionTarget,
  type Invocation,
  type MethodInterceptor,
  methodNamesOf,
  setMethodMetadata,
} from './interceptors.js';
export {
  LOG_LEVELS,
  type LogLevel,
  type ObservabilityTopology,
  observabilitySchema,
} from './observability/config.js';
export {
  errorFields,
  type LogDestination,
  type LoggedError,
  type Logger,
} from './observability/logger.js';
export {
  type CounterOptions,
  DURATION_BUCKETS,
  type GaugeOptions,
  type HistogramOptions,
  type MetricOptions,
  type Metrics,
} from './observability/metrics.js';
export {
  type InstrumentedDispatcher,
  instrumentDispatcher,
  instrumentRpcClient,
  RPC_METRICS,
  RPC_SYSTEM,
} from './observability/rpc-instrumentation.js';
export { type CreateTelemetryOptions, createTelemetry, type Telemetry } from './observability/telemetry.js';
export {
  type SpanHandle,
  type SpanKindName,
  type StartSpanOptions,
  type Tracing,
  tracerRegistered,
} from './observability/tracing.js';
export {
  definePlugin,
  type EventDescription,
  type HealthCheck,
  type HealthCheckResult,
  type HostedService,
  type LifecycleHook,
  type Plugin,
  type PluginContext,
  type PluginDescription,
} from './plugin.js';
export { createLocalClient, createRemoteClient, type LocalCallOptions } from './rpc/contract-clients.js';
export { createDispatcher } from './rpc/dispatcher.js';
export { createHttpRpcClient, type HttpRpcClientOptions } from './rpc/http-client.js';
export {
  type HttpRpcServerOptions,
  PROPAGATED_HEADERS,
  type RefusedRpcRequest,
  startHttpRpcServer,
  TIMEOUT_HEADER,
} from './rpc/http-server.js';
export type { RpcClient, RpcDispatcher, RpcServer } from './rpc/types.js';
export {
  checkTopologyAgainstApp,
  httpRpcSchema,
  interpolateEnv,
  loadTopologyFile,
  localRpcSchema,
  type ParseTopologyOptions,
  type ProcessTopology,
  parseTopology,
  processSchema,
  type RpcTopology,
  readTopologyFile,
  readTopologyJson,
  rpcSchema,
  type Topology,
  type TopologyFile,
  type TopologyIssue,
  transportUnion,
} from './topology.js';
export {
  byteSizeSchema,
  countSchema,
  durationSchema,
  flagSchema,
  parseByteSize,
  parseDuration,
  portSchema,
} from './units.js';
export { parseOrThrow, toValidationIssues, type ValidationTarget } from './validation.js';
