/**
 * The `http` RPC server: node:http, JSON through the codec, one route per call
 * (`POST /rpc/<service>/<method>`), plus `/health/live` and `/health/ready`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Codec, jsonCodec } from '../codec.js';
import type { CallContext } from '../contract.js';
import { CodecError, RpcRequestError, serializeError, TimeoutError } from '../errors.js';
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

function send(response: ServerResponse, status: number, body: string, closing: boolean): void {
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...(closing ? { connection: 'close' } : {}),
  });
  response.end(body);
}

/**
 * Starts the RPC server and resolves once it listens.
 *
 * Bad requests get a coded error and never reach a service: a non-JSON content type (415,
 * `RPC_UNSUPPORTED_MEDIA_TYPE`), a body over the limit (413, `RPC_PAYLOAD_TOO_LARGE`), malformed JSON or
 * `__proto__`/`constructor.prototype` keys (400, `RPC_BAD_REQUEST`), an unknown service or method
 * (404, `RPC_UNKNOWN_METHOD`), input that fails the schema (400, `VALIDATION_FAILED`).
 */
export async function startHttpRpcServer(options: HttpRpcServerOptions): Promise<RpcServer> {
  const codec = options.codec ?? jsonCodec;
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  const { dispatcher } = options;
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

  const handleCall = (
    request: IncomingMessage,
    response: ServerResponse,
    service: string,
    method: string,
  ) => {
    const contentType = request.headers['content-type'];
    if (contentType === undefined || !contentType.toLowerCase().startsWith('application/json')) {
      request.resume();
      fail(
        response,
        new RpcRequestError(
          'RPC_UNSUPPORTED_MEDIA_TYPE',
          `content-type must be application/json, got ${contentType ?? 'none'}`,
          {
            status: 415,
          },
        ),
      );
      return;
    }
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > bodyLimit) {
      response.shouldKeepAlive = false;
      fail(response, tooLarge(declared, bodyLimit));
      request.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let rejected = false;
    request.on('data', (chunk: Buffer) => {
      if (rejected) return;
      size += chunk.length;
      if (size > bodyLimit) {
        rejected = true;
        response.shouldKeepAlive = false;
        fail(response, tooLarge(size, bodyLimit));
        request.destroy();
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
          new RpcRequestError('RPC_BAD_REQUEST', `the request body was refused: ${reason}`, { status: 400 }),
        );
        return;
      }
      const timeoutHeader = request.headers[TIMEOUT_HEADER];
      const remaining = typeof timeoutHeader === 'string' ? Number(timeoutHeader) : Number.NaN;
      const state = new CallState(
        Number.isFinite(remaining) ? Date.now() + remaining : undefined,
        readHeaders(request),
      );
      inFlight++;
      response.once('close', () => {
        if (!response.writableFinished) state.abort(new TimeoutError('the caller went away'));
        state.end();
      });
      dispatcher.dispatch(service, method, input, state).then(
        (result) => {
          let body: string;
          try {
            body = codec.encode(result);
          } catch (error) {
            done();
            fail(response, error);
            return;
          }
          done();
          finish(response, 200, body);
        },
        (error: unknown) => {
          done();
          fail(response, error);
        },
      );
    });
  };

  const done = () => {
    inFlight--;
    if (inFlight === 0 && drained) drained();
  };

  const server = createServer(
    { keepAliveTimeout: options.keepAliveTimeout ?? 4_000 },
    (request, response) => {
      const url = request.url ?? '/';
      if (url.startsWith(RPC_PATH_PREFIX) && request.method === 'POST') {
        const rest = url.slice(RPC_PATH_PREFIX.length);
        const slash = rest.indexOf('/');
        if (slash > 0 && rest.indexOf('/', slash + 1) === -1) {
          handleCall(
            request,
            response,
            decodeURIComponent(rest.slice(0, slash)),
            decodeURIComponent(rest.slice(slash + 1)),
          );
          return;
        }
      }
      request.resume();
      if (request.method === 'GET' && url === '/health/live') {
        finish(response, 200, '{"status":"ok"}');
        return;
      }
      if (request.method === 'GET' && url === '/health/ready') {
        dispatcher.readiness().then(
          (report) =>
            finish(
              response,
              report.ok && !draining ? 200 : 503,
              JSON.stringify({ status: report.ok && !draining ? 'ok' : 'fail', ...report }),
            ),
          (error: unknown) => fail(response, error),
        );
        return;
      }
      fail(
        response,
        new RpcRequestError(
          'RPC_UNKNOWN_METHOD',
          `no route ${request.method} ${url}; calls are POST /rpc/<service>/<method>`,
          {
            status: 404,
          },
        ),
      );
    },
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    get inFlight() {
      return inFlight;
    },
    async close(drainTimeoutMs: number) {
      if (draining) return;
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
    },
  };
}

function tooLarge(size: number, limit: number): RpcRequestError {
  return new RpcRequestError(
    'RPC_PAYLOAD_TOO_LARGE',
    `request body of ${size} bytes is over the limit of ${limit} bytes`,
    {
      status: 413,
      details: { limit },
    },
  );
}
