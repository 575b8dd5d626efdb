/**
 * The `tcp` RPC driver: length-prefixed binary frames over persistent `node:net` connections (`node:tls`
 * for `tcps://` addresses), many calls multiplexed on each. The choice for speed between Blueprint
 * processes; `http` stays the choice when something else must understand the wire (a proxy, curl, a
 * client in another language).
 *
 * @example
 * "rpc": { "type": "tcp", "timeout": "5s", "connections": 2 }
 * "processes": { "products": { "services": ["products"], "address": "tcp://127.0.0.1:4001" } }
 */
import { z } from 'zod';
import { defineDriver } from '../../transport/drivers.js';
import { byteSizeSchema, durationSchema, wholeNumberSchema } from '../../units.js';
import { rpcClientOptions } from '../client-options.js';
import { clientTlsOf } from '../client-tls.js';
import { positiveTimeoutSchema } from '../server-limits.js';
import type { RpcDriverContext, RpcTransport } from '../types.js';
import { DEFAULT_TCP_SERVER_LIMITS } from './limits.js';

/** Options of the `tcp` driver: the `rpc` section with `"type": "tcp"`. */
export const tcpRpcSchema = z.strictObject({
  type: z.literal('tcp'),
  /** Per-call timeout of remote calls when the caller gives none. Default: `"10s"`. */
  timeout: durationSchema.optional().default(10_000),
  /** Largest call or answer body accepted. Default: `"1mb"`. */
  bodyLimit: byteSizeSchema.optional().default(DEFAULT_TCP_SERVER_LIMITS.bodyLimit),
  /**
   * Connections a caller keeps to each replica of a remote process; calls take them in turn, each
   * carrying many calls at once. Default: 1 (one connection carries thousands of calls a second; more
   * help only when one process calls with a lot of CPU to spare).
   */
  connections: wholeNumberSchema(1, 64).optional().default(1),
  /** How long connecting (TLS handshake included) may take before the calls waiting fail. Default: `"5s"`. */
  connectTimeout: positiveTimeoutSchema.optional().default(5_000),
  /**
   * How long a connection without calls stays open: callers close theirs, servers ask callers to go
   * (GOAWAY) after it. Default: `"60s"`.
   */
  idleTimeout: positiveTimeoutSchema.optional().default(DEFAULT_TCP_SERVER_LIMITS.idleTimeout),
  /**
   * How long a server waits, once a connection opened, for the TLS handshake and the preface before it
   * closes the connection. Default: `"10s"`.
   */
  headersTimeout: positiveTimeoutSchema.optional().default(DEFAULT_TCP_SERVER_LIMITS.headersTimeout),
  /**
   * How long a server waits for the rest of a frame once its first byte came before it closes the
   * connection. The time a method runs does not count. Default: `"30s"`.
   */
  frameTimeout: positiveTimeoutSchema.optional().default(DEFAULT_TCP_SERVER_LIMITS.frameTimeout),
  /** Connections a server keeps open at once; further ones are told so and closed. Default: 1024. */
  maxConnections: wholeNumberSchema(1).optional().default(DEFAULT_TCP_SERVER_LIMITS.maxConnections),
  /**
   * Calls one connection may have in flight on a server; further ones are answered
   * `REMOTE_UNAVAILABLE` (503) without running. Default: 1024.
   */
  maxInFlight: wholeNumberSchema(1).optional().default(DEFAULT_TCP_SERVER_LIMITS.maxInFlight),
  /**
   * Largest call head (service and method names, propagated headers, credential) a server reads;
   * larger closes the connection. Default: `"16kb"`.
   */
  maxHeaderSize: byteSizeSchema
    .refine((bytes) => bytes >= 1024 && bytes <= 0xffff, {
      message: 'use from "1kb" to "64kb": a call carries a few headers, and a head is at most 64 KiB',
    })
    .optional()
    .default(DEFAULT_TCP_SERVER_LIMITS.maxHeaderSize),
});

/** The parsed options of the `tcp` driver. */
export type TcpRpcOptions = z.output<typeof tcpRpcSchema>;

/** The `tcp` RPC driver. Its client and server modules load when a topology selects it. */
export const tcpRpc = defineDriver({
  type: 'tcp',
  schema: tcpRpcSchema,
  async create(options, context: RpcDriverContext): Promise<RpcTransport> {
    const [{ createTcpRpcClient }, { startTcpRpcServer }] = await Promise.all([
      import('./client.js'),
      import('./server.js'),
    ]);
    const tls = context.tls;
    const clientTls = clientTlsOf(tls);
    return {
      crossesProcesses: true,
      connect: (target) =>
        createTcpRpcClient({
          ...rpcClientOptions(target, options, clientTls),
          connections: options.connections,
          idleTimeout: options.idleTimeout,
          connectTimeout: options.connectTimeout,
        }),
      listen: (listenOptions) =>
        startTcpRpcServer({
          ...listenOptions,
          tls,
          bodyLimit: options.bodyLimit,
          maxHeaderSize: options.maxHeaderSize,
          maxInFlight: options.maxInFlight,
          maxConnections: options.maxConnections,
          headersTimeout: options.headersTimeout,
          frameTimeout: options.frameTimeout,
          idleTimeout: options.idleTimeout,
        }),
    };
  },
});
