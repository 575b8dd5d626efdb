/**
 * @blueprint/core/rpc — what an RPC transport author needs: the client/server seam, the dispatcher of
 * the `serve` chains, the built-in `local`, `http` and `tcp` drivers and the `http` wire.
 */
export { addressAttributes, RPC_METRICS, RPC_SYSTEM } from '../chain/observability-link.js';
export {
  CONTRACT_HEADER,
  type ContractSkew,
  type ContractVersion,
  ContractVersionGuard,
  type ContractVersionGuardOptions,
  type DescribeRemote,
  ReplicaContracts,
} from '../contracts/version-guard.js';
export { BUILT_IN_RPC_DRIVERS, rpcSectionSchema } from '../topology.js';
export { createDispatcher, type ServedService } from './dispatcher.js';
export { unknownMethodError } from './errors.js';
export { createHttpRpcClient, type HttpRpcClientOptions } from './http/client.js';
export { type HttpRpcOptions, httpRpc, httpRpcSchema } from './http/index.js';
export {
  CONTRACT_PATH_PREFIX,
  contractPath,
  deadlineOf,
  isJsonContentType,
  isValidCorrelationId,
  MAX_CORRELATION_ID_LENGTH,
  PROPAGATED_HEADERS,
  parseRpcPath,
  RPC_PATH_PREFIX,
  rpcPath,
  TIMEOUT_HEADER,
} from './http/protocol.js';
export { type HttpRpcServerOptions, startHttpRpcServer } from './http/server.js';
export { localRpc, localRpcSchema } from './local.js';
export { createTcpRpcClient, parseTcpAddress, type TcpRpcClientOptions } from './tcp/client.js';
export { type TcpRpcOptions, tcpRpc, tcpRpcSchema } from './tcp/index.js';
export { DEFAULT_TCP_SERVER_LIMITS, type TcpServerLimits } from './tcp/limits.js';
export { startTcpRpcServer, type TcpRpcServerOptions } from './tcp/server.js';
export type {
  MetricsSource,
  RefusedRpcRequest,
  RpcClient,
  RpcConnectOptions,
  RpcDispatcher,
  RpcDriver,
  RpcDriverContext,
  RpcListenOptions,
  RpcServer,
  RpcTransport,
} from './types.js';
