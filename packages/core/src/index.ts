/**
 * @blueprint/core — contracts, apps, topology and `createApp`: what an application is written against.
 *
 * Pieces for other audiences live under subpaths: `@blueprint/core/plugin` (writing a plugin: links,
 * decorator metadata, telemetry, option schemas), `@blueprint/core/transport` (writing a driver: the
 * descriptor helpers and the codec), `@blueprint/core/rpc` (writing an RPC transport) and
 * `@blueprint/core/testing` (the RPC conformance suite and test helpers).
 */
import 'reflect-metadata';

export { type BlueprintApp, type CreateAppOptions, createApp } from './app/create-app.js';
export type {
  HealthCheck,
  HealthCheckOptions,
  HealthCheckResult,
  HealthRegistry,
  ReadinessCheck,
  ReadinessReport,
} from './app/health.js';
export type { AppState } from './app/lifecycle.js';
export { CoreTokens } from './app/tokens.js';
export {
  type AppDefinition,
  type AppDefinitionInput,
  defineApp,
  isAppDefinition,
} from './app.js';
export {
  type Dependency,
  type DependencyContainer,
  decorate,
  type InjectionToken,
  inject,
  injectable,
  injectService,
  singleton,
  withDependencies,
} from './container.js';
export {
  type RequestContext,
  requestContext,
  runWithRequestContext,
} from './context/request-context.js';
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
  type CompatibilityParties,
  type ContractDescription,
  describeContract,
  fingerprintOf,
  incompatibilities,
  type JsonSchema,
  jsonSchemaOf,
  schemaIncompatibilities,
} from './contracts/compatibility.js';
export {
  AbortedError,
  AppDefinitionError,
  BlueprintError,
  CORE_ERROR_CODES,
  CORE_ERRORS,
  CodecError,
  type CodedErrorClass,
  type CodesOf,
  ConflictError,
  ContractMismatchError,
  type DefineErrorOptions,
  defineError,
  type ErrorOptions,
  errorCodesOf,
  errorGuard,
  errorTableGuard,
  ForbiddenError,
  hasErrorCode,
  InternalError,
  isBlueprintError,
  isNotFoundError,
  isRemoteUnavailableError,
  isTimeoutError,
  isValidationError,
  NotFoundError,
  OptionsError,
  OutputInvalidError,
  RemoteUnavailableError,
  RpcBadRequestError,
  RpcPayloadTooLargeError,
  RpcUnknownMethodError,
  RpcUnsupportedMediaTypeError,
  relayedFrom,
  type SerializedError,
  ServiceError,
  TimeoutError,
  TopologyError,
  UnauthenticatedError,
  UnauthorizedError,
  ValidationError,
  type ValidationIssue,
} from './errors.js';
export type { Logger } from './observability/logger.js';
export type { Telemetry } from './observability/telemetry.js';
export {
  type Constructor,
  type OnStart,
  type OnStop,
  type Provider,
  type ServiceRegistration,
  service,
} from './service.js';
export {
  interpolateEnv,
  loadTopologyFile,
  type ParseTopologyOptions,
  type ProcessTopology,
  parseTopology,
  type RpcTopology,
  type Topology,
  type TopologyIssue,
} from './topology.js';
export type { Duration } from './units.js';
