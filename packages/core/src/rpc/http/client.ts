/**
 * The `http` RPC client: one undici keep-alive pool per remote process, JSON through the codec.
 */
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type * as Undici from 'undici';
import { CREDENTIAL_HEADER } from '../../auth/credentials.js';
import { jsonCodec } from '../../codec.js';
import { type CallContext, callDeadline } from '../../contract.js';
import { CONTRACT_HEADER } from '../../contracts/version-guard.js';
import {
  AbortedError,
  type BlueprintError,
  isBlueprintError,
  RemoteUnavailableError,
  TimeoutError,
} from '../../errors.js';
import type { RpcClientOptions } from '../client-options.js';
import { type RpcClientTls, tlsConnectOptions } from '../client-tls.js';
import { answeredError, callTimedOut, codedErrorIn, responseTooLarge } from '../remote-errors.js';
import type { RpcClient } from '../types.js';
import { contractPath, LIVENESS_PATH, PROPAGATED_HEADERS, rpcPath, TIMEOUT_HEADER } from './protocol.js';

/** Options of {@link createHttpRpcClient}. */
export interface HttpRpcClientOptions extends RpcClientOptions {
  /** Base URL of the remote process, e.g. `http://127.0.0.1:4001`. */
  readonly url: string;
  /** Keep-alive connections in the pool. Default 64. */
  readonly connections?: number;
  /** Idle time before a pooled connection closes, in ms. Default 4000. */
  readonly keepAliveTimeout?: number;
}

/** The TLS side of an `https://` client: see {@link HttpRpcClientOptions.tls}. */
export type HttpRpcClientTls = RpcClientTls;

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function transportError(
  error: unknown,
  subject: string,
  url: string,
  timeoutMs: number,
  signal?: AbortSignal,
): BlueprintError {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (isBlueprintError(reason)) return reason;
    return new AbortedError(`${subject} was aborted by the caller`, { cause: reason ?? error });
  }
  const code = (error as { code?: string }).code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return callTimedOut(subject, url, timeoutMs, error);
  }
  const why =
    code !== undefined && UNAVAILABLE_CODES.has(code) ? code : ((error as Error).message ?? String(error));
  return new RemoteUnavailableError(`${subject}: ${url} cannot be reached (${why})`, {
    cause: error,
    details: { url },
  });
}

const require = createRequire(import.meta.url);
let undici: typeof Undici | undefined;

/**
 * undici, loaded by the first http client a process makes: a process that calls no other process over
 * http (a monolith, a service that only serves) never loads it (about 30 ms of CPU less at start-up).
 */
function undiciModule(): typeof Undici {
  undici ??= require('undici') as typeof Undici;
  return undici;
}

/** Drops a response body; a destroyed undici body emits an abort error that must not go unhandled. */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

async function readLimited(body: AsyncIterable<Buffer>, limit: number, subject: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      discard(body as Readable);
      throw responseTooLarge(subject, size, limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Creates the client for one remote process. Reuses connections (keep-alive), sends the caller's
 * remaining time so the server can stop work the caller no longer waits for, and honours the
 * caller's `AbortSignal`.
 */
export function createHttpRpcClient(options: HttpRpcClientOptions): RpcClient {
  const codec = options.codec ?? jsonCodec;
  const defaultTimeout = options.timeout ?? 10_000;
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  const errorsFor = options.errorsFor ?? (() => []);
  const url = options.url.replace(/\/+$/, '');
  const tls = options.tls;
  const pool = new (undiciModule().Pool)(url, {
    connections: options.connections ?? 64,
    keepAliveTimeout: options.keepAliveTimeout ?? 4_000,
    pipelining: 1,
    ...(url.startsWith('https:') && tls !== undefined ? { connect: tlsConnectOptions(tls) } : {}),
  });
  const describe = async (service: string, credential: string | undefined): Promise<unknown> => {
    const response = await pool.request({
      path: contractPath(service),
      method: 'GET',
      headers: credential === undefined ? {} : { [CREDENTIAL_HEADER]: credential },
      headersTimeout: defaultTimeout,
      bodyTimeout: defaultTimeout,
    });
    const text = await readLimited(response.body, bodyLimit, `the description of ${service}`);
    if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
    return codec.decode(text);
  };
  const skew = options.versions?.forReplica(options.process ?? url, url, describe);

  return {
    async call(service, method, input, context?: CallContext) {
      const subject = `${service}.${method}`;
      const deadline = callDeadline(context);
      const timeoutMs = deadline !== undefined ? deadline - Date.now() : defaultTimeout;
      if (timeoutMs <= 0) throw new TimeoutError(`${subject}: the deadline passed before the call was sent`);
      const signal = context?.signal;
      if (signal?.aborted) throw transportError(signal.reason, subject, url, timeoutMs, signal);
      const headers: Record<string, string> = {
        'content-type': codec.contentType,
        [TIMEOUT_HEADER]: String(Math.ceil(timeoutMs)),
      };
      if (context?.headers) {
        for (const name of PROPAGATED_HEADERS) {
          const value = context.headers[name];
          if (value !== undefined) headers[name] = value;
        }
        const credential = context.headers[CREDENTIAL_HEADER];
        if (credential !== undefined) headers[CREDENTIAL_HEADER] = credential;
      }
      let statusCode: number;
      let text: string;
      let fingerprint: unknown;
      try {
        const response = await pool.request({
          path: rpcPath(service, method),
          method: 'POST',
          headers,
          body: input === undefined ? '' : codec.encode(input),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          ...(signal ? { signal } : {}),
        });
        statusCode = response.statusCode;
        fingerprint = response.headers[CONTRACT_HEADER];
        const declared = response.headers['content-length'];
        if (declared !== undefined && Number(declared) > bodyLimit) {
          discard(response.body);
          throw responseTooLarge(subject, Number(declared), bodyLimit);
        }
        text =
          declared !== undefined
            ? await response.body.text()
            : await readLimited(response.body, bodyLimit, subject);
      } catch (error) {
        if (isBlueprintError(error)) throw error;
        throw transportError(error, subject, url, timeoutMs, signal);
      }
      if (statusCode === 200) {
        const value = text.length === 0 ? undefined : codec.decode(text);
        return skew?.differs(service, fingerprint) ? skew.result(service, method, fingerprint, value) : value;
      }
      let body: unknown;
      try {
        body = (codec.decode(text) as { error?: unknown }).error;
      } catch {
        body = undefined;
      }
      const wire = codedErrorIn(body);
      const error = answeredError(wire, subject, url, statusCode, service, errorsFor(service));
      if (wire !== undefined && skew?.differs(service, fingerprint)) {
        return skew.failure(service, method, fingerprint, error);
      }
      throw error;
    },

    async ping(timeoutMs = 1_000) {
      const started = Date.now();
      try {
        const response = await pool.request({
          path: LIVENESS_PATH,
          method: 'GET',
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        await response.body.text();
        return {
          ok: response.statusCode === 200,
          details: { url, status: response.statusCode, ms: Date.now() - started },
        };
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).message;
        return { ok: false, details: { url, error: code } };
      }
    },

    async close() {
      await pool.close();
    },
  };
}
