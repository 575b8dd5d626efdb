/**
 * The `http` RPC server: node:http, JSON through the codec, one route per call
 * (`POST /rpc/<service>/<method>`), plus `/health/live`, `/health/ready` and (when given) `/metrics`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type Codec, jsonCodec } from '../codec.js';
import type { CallContext } from '../contract.js';
import {
  AbortedError,
  CodecError,
  RemoteUnavailableError,
  RpcRequestError,
  serializeError,
  TimeoutError,
} from '../errors.js';
import { answerOperatorRoute, listen, type OperatorRoutes } from '../internal/operator-http.js';
import type { RpcDispatcher, RpcServer } from './types.js';

/** Request headers copied into the call context (lower-case). */
export const PROPAGATED_HEADERS = ['x-correlation-id', 'traceparent', 'tracestate', 'baggage'] as const;
/** Header carrying the caller's remaining time in milliseconds. */
export const TIMEOUT_HEADER = 'x-bp-timeout-ms';
/** Path prefix of RPC calls. */
export const RPC_PATH_PREFIX = '/rpc/';

/** Options of {@link startHttpRpcServer}. */
export interface HttpRpcServerOptions {
  /** Calls go to this dispatcher. */
  readonly dispatcher: RpcDispatcher;
  /** Host to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** Port to bind; 0 picks a free one. */
  readonly port: number;
  /** Largest request body in bytes. Default 1 MiB. */
  readonly bodyLimit?: number;
  /** Idle keep-alive timeout in ms. Default 4000 (below undici's default client keep-alive). */
  readonly keepAliveTimeout?: number;
  /** Codec of bodies. Default: the tagged JSON codec. */
  readonly codec?: Codec;
  /** Answers `GET /metrics` with what it resolves to (Prometheus text). Default: no `/metrics` route. */
  readonly metrics?: (() => Promise<{ readonly contentType: string; readonly text: string }>) | undefined;
  /** Told about every request answered with an error before it reached the dispatcher. */
  readonly onRefused?: ((refusal: RefusedRpcRequest) => void) | undefined;
}

/** A request the server answered with an error without dispatching it. */
export interface RefusedRpcRequest {
  /** The service named by the path, if the path was `/rpc/<service>/<method>`. */
  readonly service: string | undefined;
  /** The method named by the path, if any. */
  readonly method: string | undefined;
  /** The error answered. */
  readonly error: unknown;
  /** The request's `x-correlation-id`, if any. */
  readonly correlationId: string | undefined;
}

class CallState implements CallContext {
  readonly deadline: number | undefined;
  readonly headers: Readonly<Record<string, string>>;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  finished = false;

  constructor(deadline: number | undefined, headers: Record<string, string>) {
    this.deadline = deadline;
    this.headers = headers;
  }

  /** Created on first use only: most handlers never look at it. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.finished) this.controller.abort(new TimeoutError('the call already ended'));
      else if (this.deadline !== undefined) {
        const remaining = this.deadline - Date.now();
        this.timer = setTimeout(
          () => this.abort(new TimeoutError(`the caller's deadline passed`)),
          Math.max(0, remaining),
        );
        this.timer.unref();
      }
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    this.controller?.abort(reason);
  }

  end(): void {
    this.finished = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}

function readHeaders(request: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PROPAGATED_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

function send(
  response: ServerResponse,
  status: number,
  body: string,
  closing: boolean,
  contentType = 'application/json',
): void {
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    ...(closing ? { connection: 'close' } : {}),
  });
  response.end(body);
}

/**
 * Starts the RPC server and resolves once it listens.
 *
 * Bad requests get a coded error and never reach a service: an unknown service or method, or a path
 * that is not `/rpc/<service>/<method>` (404, `RPC_UNKNOWN_METHOD`), a content type other than
 * `application/json` (415, `RPC_UNSUPPORTED_MEDIA_TYPE`), a body over the limit, declared or streamed
 * (413, `RPC_PAYLOAD_TOO_LARGE`), malformed JSON or `__proto__`/`constructor.prototype` keys (400,
 * `RPC_BAD_REQUEST`), input that fails the schema (400, `VALIDATION_FAILED`). Once `close()` began,
 * new calls get 503 `REMOTE_UNAVAILABLE` and are not run.
 */
export async function startHttpRpcServer(options: HttpRpcServerOptions): Promise<RpcServer> {
  const codec = options.codec ?? jsonCodec;
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  const { dispatcher, onRefused } = options;
  /** Reports a refusal to `onRefused` and returns the error. */
  const refusal = (
    request: IncomingMessage,
    service: string | undefined,
    method: string | undefined,
    error: unknown,
  ) => {
    if (onRefused !== undefined) {
      const correlationId = request.headers['x-correlation-id'];
      onRefused({
        service,
        method,
        error,
        correlationId: typeof correlationId === 'string' ? correlationId : undefined,
      });
    }
    return error;
  };
  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | undefined;

  const finish = (response: ServerResponse, status: number, body: string) => {
    send(response, status, body, draining);
  };
  const fail = (response: ServerResponse, error: unknown) => {
    const { status, body } = serializeError(error);
    let text: string;
    try {
      text = codec.encode({ error: body });
    } catch {
      text = JSON.stringify({ error: { code: body.code, message: body.message } });
    }
    finish(response, status, text);
  };
  const operatorRoutes: OperatorRoutes = {
    readiness: () => dispatcher.readiness(),
    metrics: options.metrics,
    draining: () => draining,
    send: (response, status, contentType, body) => send(response, status, body, draining, contentType),
    fail,
  };
  const done = () => {
    inFlight--;
    if (inFlight === 0 && drained) drained();
  };
  /** Answers before the whole body was read: the connection closes once the answer is out. */
  const refuse = (request: IncomingMessage, response: ServerResponse, error: unknown) => {
    response.shouldKeepAlive = false;
    response.once('finish', () => request.destroy());
    fail(response, error);
  };

  const handleCall = (
    request: IncomingMessage,
    response: ServerResponse,
    service: string,
    method: string,
  ) => {
    if (draining) {
      refuse(
        request,
        response,
        refusal(
          request,
          service,
          method,
          new RemoteUnavailableError(`${service}.${method}: this process is shutting down; call again later`),
        ),
      );
      return;
    }
    if (!dispatcher.has(service, method)) {
      request.resume();
      fail(response, refusal(request, service, method, unknownMethod(service, method)));
      return;
    }
    if (!isJsonContentType(request.headers['content-type'])) {
      request.resume();
      fail(
        response,
        refusal(
          request,
          service,
          method,
          new RpcRequestError(
            'RPC_UNSUPPORTED_MEDIA_TYPE',
            `content-type must be application/json, got ${request.headers['content-type'] ?? 'none'}`,
            { status: 415 },
          ),
        ),
      );
      return;
    }
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > bodyLimit) {
      refuse(request, response, refusal(request, service, method, tooLarge(declared, bodyLimit)));
      return;
    }
    inFlight++;
    const state = new CallState(deadlineOf(request), readHeaders(request));
    response.once('close', () => {
      if (!response.writableFinished)
        state.abort(new AbortedError(`${service}.${method}: the caller went away`));
      state.end();
      done();
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let rejected = false;
    request.on('data', (chunk: Buffer) => {
      if (rejected) return;
      size += chunk.length;
      if (size > bodyLimit) {
        rejected = true;
        refuse(request, response, refusal(request, service, method, tooLarge(size, bodyLimit)));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (rejected) return;
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      let input: unknown;
      try {
        input = text.length === 0 ? undefined : codec.decode(text);
      } catch (error) {
        const reason = error instanceof CodecError ? error.message : String(error);
        fail(
          response,
          refusal(
            request,
            service,
            method,
            new RpcRequestError('RPC_BAD_REQUEST', `the request body was refused: ${reason}`, {
              status: 400,
            }),
          ),
        );
        return;
      }
      dispatcher.dispatch(service, method, input, state).then(
        (result) => {
          if (response.destroyed) return;
          let body: string;
          try {
            body = codec.encode(result);
          } catch (error) {
            fail(response, error);
            return;
          }
          finish(response, 200, body);
        },
        (error: unknown) => {
          if (!response.destroyed) fail(response, error);
        },
      );
    });
  };

  const server = createServer(
    { keepAliveTimeout: options.keepAliveTimeout ?? 4_000 },
    (request, response) => {
      const url = request.url ?? '/';
      if (url.startsWith(RPC_PATH_PREFIX) && request.method === 'POST') {
        const rest = url.slice(RPC_PATH_PREFIX.length);
        const slash = rest.indexOf('/');
        if (slash > 0 && rest.indexOf('/', slash + 1) === -1) {
          let service: string;
          let method: string;
          try {
            service = decodeURIComponent(rest.slice(0, slash));
            method = decodeURIComponent(rest.slice(slash + 1));
          } catch {
            request.resume();
            fail(
              response,
              refusal(
                request,
                undefined,
                undefined,
                new RpcRequestError('RPC_BAD_REQUEST', `malformed percent-encoding in the path ${url}`, {
                  status: 400,
                }),
              ),
            );
            return;
          }
          handleCall(request, response, service, method);
          return;
        }
      }
      request.resume();
      if (answerOperatorRoute(request, response, operatorRoutes)) return;
      fail(
        response,
        refusal(
          request,
          undefined,
          undefined,
          new RpcRequestError(
            'RPC_UNKNOWN_METHOD',
            `no route ${request.method} ${url}; calls are POST /rpc/<service>/<method>`,
            { status: 404 },
          ),
        ),
      );
    },
  );

  const url = await listen(server, options.port, options.host);
  let closing: Promise<void> | undefined;

  return {
    url,
    get inFlight() {
      return inFlight;
    },
    close(drainTimeoutMs: number) {
      closing ??= (async () => {
        draining = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            new Promise<void>((resolve) => {
              drained = resolve;
            }),
            new Promise<void>((resolve) => {
              timer = setTimeout(resolve, drainTimeoutMs);
            }),
          ]);
          clearTimeout(timer);
        }
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  if (value === 'application/json') return true;
  const semicolon = value.indexOf(';');
  return (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase() === 'application/json';
}

function deadlineOf(request: IncomingMessage): number | undefined {
  const header = request.headers[TIMEOUT_HEADER];
  const remaining = typeof header === 'string' ? Number(header) : Number.NaN;
  return Number.isFinite(remaining) && remaining >= 0 ? Date.now() + remaining : undefined;
}

function unknownMethod(service: string, method: string): RpcRequestError {
  return new RpcRequestError(
    'RPC_UNKNOWN_METHOD',
    `no method "${method}" of service "${service}" is hosted here; check the topology places the service in this process`,
    { status: 404, details: { service, method } },
  );
}

function tooLarge(size: number, limit: number): RpcRequestError {
  return new RpcRequestError(
    'RPC_PAYLOAD_TOO_LARGE',
    `request body of ${size} bytes is over the limit of ${limit} bytes; send less or raise rpc.bodyLimit`,
    { status: 413, details: { limit } },
  );
}
