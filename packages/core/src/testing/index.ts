/**
 * @blueprint/core/testing — the RPC conformance suite and the fixtures it calls, for transports written
 * inside and outside this package. Needs vitest (an optional peer dependency of @blueprint/core).
 */

export {
  describeRpcConformance,
  type RpcConformanceOptions,
  type RpcConformanceTarget,
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
export { type WaitForOptions, waitFor } from './wait-for.js';
