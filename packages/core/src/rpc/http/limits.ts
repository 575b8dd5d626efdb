/**
 * The limits every HTTP server core starts applies (the `http` RPC server and the admin listener): how
 * long a client may take to send its headers and its whole request, how long an idle keep-alive
 * connection stays open, how many connections are open at once and how large the headers may be, with
 * a coded JSON answer to a request that breaks one of them.
 */
import { type Server as HttpServer, type ServerOptions, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** The limits of one server. */
export interface ServerLimits {
  /** Time from a connection's start (or a request's first byte) until its headers are in, in ms. */
  readonly headersTimeout: number;
  /** Time from a request's first byte until it is received whole, body included, in ms. */
  readonly requestTimeout: number;
  /** Time an idle keep-alive connection stays open, in ms. */
  readonly keepAliveTimeout: number;
  /** Connections open at once; further ones are closed as soon as they are accepted. */
  readonly maxConnections: number;
  /** Largest request head (request line and headers), in bytes. */
  readonly maxHeaderSize: number;
}

/**
 * The defaults: 10 s for the headers (Node: 60 s), 30 s for the whole request (Node: 300 s; a 1 MiB
 * body still fits at 1 Mbit/s), 4 s keep-alive (undici's pools take the server's `keep-alive: timeout`
 * hint minus 1 s, so a client never reuses a connection the server is closing), 1024 connections (16
 * caller replicas with full 64-connection pools) and 16 KiB of headers (Node's default).
 */
export const DEFAULT_SERVER_LIMITS: ServerLimits = Object.freeze({
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 4_000,
  maxConnections: 1024,
  maxHeaderSize: 16 * 1024,
});

/**
 * How long a connection whose request was refused before its body was read whole (413, 401, 503) stays
 * open while the rest of the body is read and dropped, so the caller reads the answer instead of a reset.
 */
export const LINGER_MS = 2_000;
/** The most bytes of a refused request's body read and dropped before the connection closes anyway. */
export const LINGER_BYTES = 16 * 1024 * 1024;

/** The `http.createServer` (and `https.createServer`) options for `limits`. */
export function serverOptions(limits: ServerLimits): ServerOptions & { handshakeTimeout: number } {
  return {
    keepAliveTimeout: limits.keepAliveTimeout,
    headersTimeout: limits.headersTimeout,
    requestTimeout: limits.requestTimeout,
    maxHeaderSize: limits.maxHeaderSize,
    // Node checks both timeouts on this interval (30 s by default): a fraction of the shorter one keeps
    // the cut close to the bound.
    connectionsCheckingInterval: Math.max(
      10,
      Math.min(1_000, Math.floor(Math.min(limits.headersTimeout, limits.requestTimeout) / 4)),
    ),
    // TLS only: a client that never finishes its handshake is cut like one that never sends its headers.
    handshakeTimeout: limits.headersTimeout,
  };
}

const RESPONSE = Symbol('blueprint:response');

/**
 * Bounds the server's connections and answers requests that break a limit or are not HTTP with a coded
 * JSON error before closing: 431 for headers over `maxHeaderSize`, 408 for a request not received in
 * time, 400 for anything else the parser refuses.
 */
export function applyServerLimits(server: HttpServer, limits: ServerLimits): void {
  server.maxConnections = limits.maxConnections;
  server.prependListener('request', (request, response) => {
    (request.socket as { [RESPONSE]?: unknown })[RESPONSE] = response;
  });
  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) =>
    answerClientError(error, socket, limits),
  );
}

const answered = new WeakSet<Duplex>();

function answerClientError(error: Error & { code?: string }, socket: Duplex, limits: ServerLimits): void {
  if (answered.has(socket)) return;
  answered.add(socket);
  const response = (socket as { [RESPONSE]?: { headersSent: boolean; writableFinished: boolean } })[RESPONSE];
  // An answer is already on its way: another one would corrupt it.
  const answering = response?.headersSent === true && !response.writableFinished;
  if (error.code === 'ECONNRESET' || !socket.writable || answering) {
    socket.destroy();
    return;
  }
  const [status, code, message] = clientErrorAnswer(error, limits);
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n${body}`,
  );
  // The client may still be sending: read on for a while so it gets the answer, not a reset.
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

function clientErrorAnswer(
  error: Error & { code?: string },
  limits: ServerLimits,
): [status: number, code: string, message: string] {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [
        431,
        'RPC_BAD_REQUEST',
        `the request headers are over the limit of ${limits.maxHeaderSize} bytes; send fewer or smaller headers, or raise rpc.maxHeaderSize`,
      ];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [
        408,
        'TIMEOUT',
        `the request was not received in time (headers within ${limits.headersTimeout} ms, the whole request within ${limits.requestTimeout} ms)`,
      ];
    default:
      return [400, 'RPC_BAD_REQUEST', `malformed HTTP request (${error.code ?? 'parse error'})`];
  }
}
