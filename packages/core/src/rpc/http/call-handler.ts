/**
 * How the `http` RPC server handles one `POST /rpc/<service>/<method>`: the checks made before the body
 * is read (draining, unknown method, content type, declared size), the body read within its limit and
 * decoded, then the dispatcher's `serve` chain.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallAuthenticator } from '../../auth/credentials.js';
import type { Codec } from '../../codec.js';
import { CONTRACT_HEADER } from '../../contracts/version-guard.js';
import {
  AbortedError,
  isBlueprintError,
  RemoteUnavailableError,
  RpcBadRequestError,
  RpcPayloadTooLargeError,
  RpcUnsupportedMediaTypeError,
} from '../../errors.js';
import { unknownMethodError } from '../errors.js';
import type { RpcDispatcher } from '../types.js';
import { CallState } from './call-state.js';
import { credentialOf, deadlineOf, isJsonContentType, propagatedHeaders } from './protocol.js';

/** The call an error answer is for: the uncoded errors of a call are answered naming its correlation id. */
export interface CallRef {
  readonly service: string;
  readonly method: string;
  /** The call's (checked) correlation id, if it has one. */
  readonly correlationId: string | undefined;
}

/** What the call handler needs from its server. */
export interface CallHandlerDeps {
  readonly dispatcher: RpcDispatcher;
  readonly codec: Codec;
  readonly bodyLimit: number;
  /** True once the server began to close. */
  readonly draining: () => boolean;
  /** Writes a success; `contract` is the fingerprint of the served contract. */
  readonly succeed: (response: ServerResponse, body: string, contract?: string) => void;
  /** Writes an error answer. */
  readonly fail: (response: ServerResponse, error: unknown, call?: CallRef) => void;
  /**
   * Writes an error answer before the body was read whole; the connection then closes gracefully (the
   * rest of the body is read and dropped for a bounded time).
   */
  readonly refuse: (request: IncomingMessage, response: ServerResponse, error: unknown) => void;
  /** Reports an error answered before dispatch; returns it. */
  readonly refusal: (request: IncomingMessage, service: string, method: string, error: unknown) => unknown;
  /** Counts a call from the moment its body is read until its answer is out. */
  readonly track: (response: ServerResponse) => void;
  /** Verifies the call's credential; undefined when calls are not authenticated. */
  readonly authenticate: CallAuthenticator | undefined;
}

/** Handles one call request. */
export function handleCall(
  deps: CallHandlerDeps,
  request: IncomingMessage,
  response: ServerResponse,
  service: string,
  method: string,
): void {
  const refused = (error: unknown) => deps.refusal(request, service, method, error);
  if (deps.draining()) {
    const error = new RemoteUnavailableError(
      `${service}.${method}: this process is shutting down; call again later`,
      { details: { reason: 'draining' } },
    );
    deps.refuse(request, response, refused(error));
    return;
  }
  let caller: string | undefined;
  if (deps.authenticate !== undefined) {
    try {
      caller = deps.authenticate(credentialOf(request)).caller;
    } catch (error) {
      deps.refuse(request, response, refused(error));
      return;
    }
  }
  const contract = deps.dispatcher.describe?.(service)?.fingerprint;
  if (!deps.dispatcher.has(service, method)) {
    request.resume();
    failNaming(deps, response, contract, refused(unknownMethodError(service, method)));
    return;
  }
  if (!isJsonContentType(request.headers['content-type'])) {
    request.resume();
    const error = new RpcUnsupportedMediaTypeError(
      `content-type must be application/json, got ${request.headers['content-type'] ?? 'none'}`,
    );
    deps.fail(response, refused(error));
    return;
  }
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > deps.bodyLimit) {
    deps.refuse(request, response, refused(tooLarge(declared, deps.bodyLimit)));
    return;
  }
  deps.track(response);
  const state = new CallState(deadlineOf(request.headers), propagatedHeaders(request.headers), caller);
  response.once('close', () => {
    if (!response.writableFinished)
      state.abort(new AbortedError(`${service}.${method}: the caller went away`));
    state.end();
  });
  readBody(request, deps.bodyLimit, (size) =>
    deps.refuse(request, response, refused(tooLarge(size, deps.bodyLimit))),
  ).then((text) => {
    if (text === undefined) return;
    let input: unknown;
    try {
      input = text.length === 0 ? undefined : deps.codec.decode(text);
    } catch (error) {
      // Only a coded error's message is shown: anything else may carry internal text.
      const reason = isBlueprintError(error) ? error.message : 'it cannot be decoded';
      const refusal = refused(new RpcBadRequestError(`the request body was refused: ${reason}`));
      failNaming(deps, response, contract, refusal);
      return;
    }
    const call: CallRef = { service, method, correlationId: state.headers['x-correlation-id'] };
    deps.dispatcher.dispatch(service, method, input, state).then(
      (result) => {
        if (response.destroyed) return;
        let body: string;
        try {
          body = deps.codec.encode(result);
        } catch (error) {
          failNaming(deps, response, contract, error, call);
          return;
        }
        deps.succeed(response, body, contract);
      },
      (error: unknown) => {
        if (!response.destroyed) failNaming(deps, response, contract, error, call);
      },
    );
  });
}

/**
 * Writes an error answer naming the served contract (`x-bp-contract`), which a caller of another version
 * reads to tell a version difference from a plain error. Successes carry it through `succeed`.
 */
function failNaming(
  deps: CallHandlerDeps,
  response: ServerResponse,
  contract: string | undefined,
  error: unknown,
  call?: CallRef,
): void {
  if (contract !== undefined) response.setHeader(CONTRACT_HEADER, contract);
  deps.fail(response, error, call);
}

/**
 * Reads a request body of at most `limit` bytes. Resolves to the text, or to undefined once `onTooLarge`
 * was called for a body that streamed past the limit.
 */
function readBody(
  request: IncomingMessage,
  limit: number,
  onTooLarge: (size: number) => void,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let rejected = false;
    request.on('data', (chunk: Buffer) => {
      if (rejected) return;
      size += chunk.length;
      if (size > limit) {
        rejected = true;
        onTooLarge(size);
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (rejected) return;
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    });
  });
}

function tooLarge(size: number, limit: number) {
  return new RpcPayloadTooLargeError(
    `request body of ${size} bytes is over the limit of ${limit} bytes; send less or raise rpc.bodyLimit`,
    { details: { limit } },
  );
}
