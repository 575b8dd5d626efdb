/**
 * The `http` RPC server: node:http (node:https for an `https://` address), JSON through the codec, one
 * route per call (`POST /rpc/<service>/<method>`, see `protocol.ts`), plus the bare-status probes
 * `/health/live` and `/health/ready` (details and `/metrics` are on the admin listener).
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type RequestListener,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type Codec, jsonCodec } from '../../codec.js';
import { isBlueprintError, RpcBadRequestError, RpcUnknownMethodError } from '../../errors.js';
import { answerOperatorRoute, listen, type OperatorRoutes } from '../../internal/operator-http.js';
import { settleWithin } from '../../timing.js';
import { rpcServerHandle, stopAccepting } from '../server-handle.js';
import { limitsWithDefaults } from '../server-limits.js';
import { tlsServerOptions } from '../tls-server.js';
import type { RpcListenOptions, RpcServer, RpcTlsMaterial } from '../types.js';
import { type CallHandlerDeps, type CallRef, handleCall } from './call-handler.js';
import { answerContractRoute } from './contract-route.js';
import { applyServerLimits, DEFAULT_SERVER_LIMITS, type ServerLimits, serverOptions } from './limits.js';
import { correlationIdOf, parseRpcPath } from './protocol.js';
import { errorAnswer, send, sendAndLinger } from './responses.js';

/** Options of {@link startHttpRpcServer}. */
export interface HttpRpcServerOptions extends RpcListenOptions, Partial<ServerLimits> {
  /** Largest request body in bytes. Default 1 MiB. */
  readonly bodyLimit?: number;
  /** Codec of bodies. Default: the tagged JSON codec. */
  readonly codec?: Codec;
  /**
   * The certificate served when `secure` is true; with `clientCert`, callers must present a client
   * certificate signed by `ca` (mutual TLS).
   */
  readonly tls?: RpcTlsMaterial | undefined;
}

/**
 * Starts the RPC server and resolves once it listens.
 *
 * Bad requests get a coded error and never reach a service: an unknown service or method, or a path
 * that is not `/rpc/<service>/<method>` (404, `RPC_UNKNOWN_METHOD`), a content type other than
 * `application/json` (415, `RPC_UNSUPPORTED_MEDIA_TYPE`), a body over the limit, declared or streamed
 * (413, `RPC_PAYLOAD_TOO_LARGE`, answered before the body is read and followed by a lingering close),
 * malformed JSON, `__proto__`/`constructor.prototype` keys or nesting deeper than 128 levels (400,
 * `RPC_BAD_REQUEST`), input that fails the schema (400, `VALIDATION_FAILED`), headers over
 * `maxHeaderSize` (431), a request not received within `headersTimeout`/`requestTimeout` (408, then
 * the connection closes). `GET /contracts/<service>` answers the description of a hosted service's
 * contract (authenticated like a call). Once `close()` began, new calls get 503 `REMOTE_UNAVAILABLE` and are not run.
 * An uncoded error is answered `INTERNAL` with a generic message naming the call's correlation id; its
 * detail goes to `onHiddenError`. Every answer carries `x-content-type-options: nosniff`.
 */
export async function startHttpRpcServer(options: HttpRpcServerOptions): Promise<RpcServer> {
  const codec = options.codec ?? jsonCodec;
  const limits = limitsWithDefaults<ServerLimits>(options, DEFAULT_SERVER_LIMITS);
  const calls = new InFlight();
  let draining = false;
  const answer = (error: unknown, call: CallRef | undefined) => {
    if (isBlueprintError(error) && error.code !== 'INTERNAL') return errorAnswer(codec, error);
    const correlationId = call?.correlationId ?? randomUUID();
    options.onHiddenError?.({ service: call?.service, method: call?.method, error, correlationId });
    return errorAnswer(codec, error, { hideInternal: { correlationId } });
  };
  const fail = (response: ServerResponse, error: unknown, call?: CallRef) => {
    const { status, text } = answer(error, call);
    send(response, status, text, draining);
  };
  const refusal = (request: IncomingMessage, service?: string, method?: string, error?: unknown) => {
    options.onRefused?.({ service, method, error, correlationId: correlationIdOf(request.headers) });
    return error;
  };
  const deps: CallHandlerDeps = {
    dispatcher: options.dispatcher,
    codec,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    draining: () => draining,
    succeed: (response, body, contract) => send(response, 200, body, draining, undefined, contract),
    fail,
    refuse(request, response, error) {
      const { status, text } = answer(error, undefined);
      sendAndLinger(request, response, status, text);
    },
    refusal,
    track: (response) => calls.track(response),
    authenticate: options.authenticate,
  };
  const operatorRoutes: OperatorRoutes = {
    readiness: options.readiness,
    authorized: () => false,
    draining: () => draining,
    send: (response, status, contentType, body) => send(response, status, body, draining, contentType),
    fail,
  };

  const onRequest: RequestListener = (request, response) => {
    const url = request.url ?? '/';
    const path = request.method === 'POST' ? parseRpcPath(url) : ({ kind: 'other' } as const);
    if (path.kind === 'call') return handleCall(deps, request, response, path.service, path.method);
    request.resume();
    if (path.kind === 'malformed') {
      fail(response, refusal(request, undefined, undefined, malformedPath(url)));
      return;
    }
    if (answerContractRoute(deps, request, response)) return;
    if (answerOperatorRoute(request, response, operatorRoutes)) return;
    fail(response, refusal(request, undefined, undefined, noRoute(request.method, url)));
  };
  const server = options.secure
    ? createTlsServer(options.tls, limits, onRequest)
    : createServer(serverOptions(limits), onRequest);
  applyServerLimits(server, limits);

  const bound = await listen(server, options.port, options.host);
  const url = options.secure ? bound.replace(/^http:/, 'https:') : bound;
  return rpcServerHandle(
    url,
    () => calls.count,
    async (drainTimeoutMs) => {
      draining = true;
      const closed = stopAccepting(server);
      server.closeIdleConnections();
      await calls.drained(drainTimeoutMs);
      server.closeAllConnections();
      await closed;
    },
  );
}

/** A node:https server with the process's certificate; it asks for client certificates with `clientCert`. */
function createTlsServer(
  tls: RpcTlsMaterial | undefined,
  limits: ServerLimits,
  onRequest: RequestListener,
): HttpServer {
  return createHttpsServer({ ...serverOptions(limits), ...tlsServerOptions(tls, 'https') }, onRequest);
}

/** Calls being handled, and a way to wait until none are. */
class InFlight {
  count = 0;
  private onIdle: (() => void) | undefined;

  track(response: ServerResponse): void {
    this.count++;
    response.once('close', () => {
      this.count--;
      if (this.count === 0) this.onIdle?.();
    });
  }

  /** Resolves when no call is in flight, or after `timeoutMs`. */
  async drained(timeoutMs: number): Promise<void> {
    if (this.count === 0) return;
    await settleWithin(
      new Promise<void>((resolve) => {
        this.onIdle = resolve;
      }),
      timeoutMs,
    );
  }
}

function malformedPath(url: string) {
  return new RpcBadRequestError(`malformed percent-encoding in the path ${url}`);
}

function noRoute(method: string | undefined, url: string) {
  return new RpcUnknownMethodError(`no route ${method} ${url}; calls are POST /rpc/<service>/<method>`);
}
