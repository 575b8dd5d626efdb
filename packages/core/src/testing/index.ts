/**
 * @blueprint/core/testing — the RPC conformance suite and the fixtures it calls, for transports written
 * inside and outside this package. Needs vitest (an optional peer dependency of @blueprint/core).
 */

export {
  type RpcConformanceOptions,
  type RpcConformanceTarget,
  rpcConformanceSuite,
} from './rpc-conformance.js';
export {
  Conformance,
  ConformanceFailure,
  ConformanceRejectedError,
  ConformanceService,
  ConformanceStats,
  ConformanceUnlistedError,
  ConformanceValues,
  conformanceApp,
} from './rpc-fixtures.js';
