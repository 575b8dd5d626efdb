/** How the `http` RPC server writes answers: JSON bodies, coded errors, and closing when it drains. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Codec } from '../../codec.js';
import { CONTRACT_HEADER } from '../../contracts/version-guard.js';
import { type SerializeErrorOptions, serializeError } from '../../errors.js';
import { LINGER_BYTES, LINGER_MS } from './limits.js';

function headers(body: string, closing: boolean, contentType: string, contract: string | undefined) {
  const out: Record<string, string | number> = {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
  };
  if (closing) out.connection = 'close';
  if (contract !== undefined) out[CONTRACT_HEADER] = contract;
  return out;
}

/**
 * Writes a whole response; `closing` asks the client to close the connection (the server drains);
 * `contract` is the fingerprint of the served contract, for `x-bp-contract`.
 */
export function send(
  response: ServerResponse,
  status: number,
  body: string,
  closing: boolean,
  contentType = 'application/json',
  contract?: string,
): void {
  response.writeHead(status, headers(body, closing, contentType, contract));
  response.end(body);
}

/**
 * Answers a request refused before its body was read whole, then closes the connection gracefully
 * (a lingering close): the rest of the body is read and dropped until it ends, for at most
 * {@link LINGER_MS} and {@link LINGER_BYTES}. Closing at once, with the caller still sending, resets
 * the connection, and the caller may see the reset instead of the answer (and retry).
 */
export function sendAndLinger(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  body: string,
): void {
  response.shouldKeepAlive = false;
  response.writeHead(status, headers(body, true, 'application/json', undefined));
  if (request.complete) {
    response.end(body);
    return;
  }
  // The answer goes out whole now (its content-length says where it ends); ending the response is what
  // makes node close the socket, so that waits until the body is in, or the bounds are reached.
  response.write(body);
  let dropped = 0;
  const finish = () => {
    clearTimeout(timer);
    request.off('data', drop);
    if (!response.writableEnded) response.end();
  };
  const drop = (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) finish();
  };
  const timer = setTimeout(finish, LINGER_MS);
  timer.unref();
  request.on('data', drop);
  request.once('end', finish);
  response.once('close', () => clearTimeout(timer));
  request.resume();
}

/**
 * The status and JSON body of an error answer: `{ "error": { code, message, details? } }`; with
 * `hideInternal`, an uncoded error's message is replaced (see `serializeError`).
 */
export function errorAnswer(
  codec: Codec,
  error: unknown,
  options: SerializeErrorOptions = {},
): { status: number; text: string } {
  const { status, body } = serializeError(error, options);
  try {
    return { status, text: codec.encode({ error: body }) };
  } catch {
    return { status, text: JSON.stringify({ error: { code: body.code, message: body.message } }) };
  }
}
