/**
 * Requests Node's HTTP parser refuses before any framework sees them — headers over the size limit,
 * headers or a body that do not arrive within the server's timeouts, bytes that are not HTTP — answered
 * on the socket with the one error body, then the socket closed. Fastify takes it as its
 * `clientErrorHandler` (set by `blueprintFastifyOptions`); any `node:http` server takes it as a
 * `clientError` listener: `server.on('clientError', answerClientError)`.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { BadRequestError, HeadersTooLargeError, RequestTimeoutError } from './errors.js';

function errorFor(code: string | undefined) {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return new HeadersTooLargeError('the request headers are over the size limit');
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new RequestTimeoutError('the request was not received in time');
  }
  return new BadRequestError('malformed HTTP request');
}

/**
 * Answers a request Node's parser refused: 431 `HEADERS_TOO_LARGE`, 408 `REQUEST_TIMEOUT`, or 400
 * `BAD_REQUEST`, with `connection: close`; a connection the client reset gets nothing.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const refusal = errorFor(error.code);
  const body = JSON.stringify({ error: { code: refusal.code, message: refusal.message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
