/**
 * The `http` RPC driver: JSON over HTTP/1.1 (over TLS for `https://` addresses), one undici keep-alive
 * pool per remote process. The choice for interoperability: any HTTP client, proxy or load balancer
 * understands it.
 *
 * @example
 * "rpc": { "type": "http", "timeout": "5s", "connections": 64, "headersTimeout": "5s" }
 */
import { z } from 'zod';
import { defineDriver } from '../../transport/drivers.js';
import { byteSizeSchema, countSchema, durationSchema, wholeNumberSchema } from '../../units.js';
import { rpcClientOptions } from '../client-options.js';
import { clientTlsOf } from '../client-tls.js';
import { positiveTimeoutSchema } from '../server-limits.js';
import type { RpcDriverContext, RpcTransport } from '../types.js';
import { DEFAULT_SERVER_LIMITS } from './limits.js';

/** Options of the `http` driver: the `rpc` section with `"type": "http"`. */
export const httpRpcSchema = z
  .strictObject({
    type: z.literal('http'),
    /** Per-call timeout of remote calls when the caller gives none. Default: `"10s"`. */
    timeout: durationSchema.optional().default(10_000),
    /** Largest request or response body accepted. Default: `"1mb"`. */
    bodyLimit: byteSizeSchema.optional().default(1024 * 1024),
    /** Keep-alive connections per remote process. Default: 64. */
    connections: countSchema.optional().default(64),
    /** How long an idle keep-alive connection stays open, on servers and in client pools. Default: `"4s"`. */
    keepAliveTimeout: positiveTimeoutSchema.optional().default(DEFAULT_SERVER_LIMITS.keepAliveTimeout),
    /**
     * How long a server waits for a request's headers (from the connection's start, or the request's
     * first byte) before it answers 408 and closes. Default: `"10s"`.
     */
    headersTimeout: positiveTimeoutSchema.optional().default(DEFAULT_SERVER_LIMITS.headersTimeout),
    /**
     * How long a server waits for a whole request, body included, before it answers 408 and closes;
     * at least `headersTimeout`. The time a method runs does not count. Default: `"30s"`.
     */
    requestTimeout: positiveTimeoutSchema.optional().default(DEFAULT_SERVER_LIMITS.requestTimeout),
    /** Connections a server keeps open at once; further ones are closed when accepted. Default: 1024. */
    maxConnections: wholeNumberSchema(1).optional().default(DEFAULT_SERVER_LIMITS.maxConnections),
    /** Largest request head (request line and headers) a server reads; larger gets 431. Default: `"16kb"`. */
    maxHeaderSize: byteSizeSchema
      .refine((bytes) => bytes >= 1024, { message: 'use at least "1kb": a call carries a few headers' })
      .optional()
      .default(DEFAULT_SERVER_LIMITS.maxHeaderSize),
  })
  .refine((options) => options.headersTimeout <= options.requestTimeout, {
    path: ['headersTimeout'],
    message: 'must not be longer than requestTimeout, which counts the headers too',
  });

/** The parsed options of the `http` driver. */
export type HttpRpcOptions = z.output<typeof httpRpcSchema>;

/** The `http` RPC driver. Its client (undici) and server modules load when a topology selects it. */
export const httpRpc = defineDriver({
  type: 'http',
  schema: httpRpcSchema,
  async create(options, context: RpcDriverContext): Promise<RpcTransport> {
    const [{ createHttpRpcClient }, { startHttpRpcServer }] = await Promise.all([
      import('./client.js'),
      import('./server.js'),
    ]);
    const tls = context.tls;
    const clientTls = clientTlsOf(tls);
    return {
      crossesProcesses: true,
      connect: (target) =>
        createHttpRpcClient({
          ...rpcClientOptions(target, options, clientTls),
          connections: options.connections,
          keepAliveTimeout: options.keepAliveTimeout,
        }),
      listen: (listenOptions) =>
        startHttpRpcServer({
          ...listenOptions,
          tls,
          bodyLimit: options.bodyLimit,
          keepAliveTimeout: options.keepAliveTimeout,
          headersTimeout: options.headersTimeout,
          requestTimeout: options.requestTimeout,
          maxConnections: options.maxConnections,
          maxHeaderSize: options.maxHeaderSize,
        }),
    };
  },
});
