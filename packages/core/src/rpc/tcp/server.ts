/**
 * The `tcp` RPC server: node:net (node:tls for a `tcps://` address), the frames of `frames.ts`, many
 * calls at once on each connection. Calls are checked from their head, before their body is held:
 * draining, credential, unknown method, calls in flight, body size. Refused calls are answered with a
 * coded ERROR frame and the connection goes on; a connection that breaks the framing (a wrong preface, a
 * head over the limit, a length that cannot hold its head, an unknown frame type, a reused call id) is
 * told why in an ERROR frame with id 0 and closed. Nothing a connection sends stops the server.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { type Codec, jsonCodec } from '../../codec.js';
import {
  AbortedError,
  isBlueprintError,
  RemoteUnavailableError,
  RpcBadRequestError,
  RpcPayloadTooLargeError,
  RpcUnknownMethodError,
  serializeError,
} from '../../errors.js';
import { listen } from '../../internal/operator-http.js';
import { settleWithin } from '../../timing.js';
import { unknownMethodError } from '../errors.js';
import { CallState } from '../http/call-state.js';
import { isValidCorrelationId } from '../http/protocol.js';
import { rpcServerHandle, stopAccepting } from '../server-handle.js';
import { limitsWithDefaults } from '../server-limits.js';
import { tlsServerOptions } from '../tls-server.js';
import type { RpcListenOptions, RpcServer, RpcTlsMaterial } from '../types.js';
import {
  type CallHead,
  type DecodedFrame,
  decodeCallHead,
  encodeContracts,
  encodeControl,
  encodeError,
  encodePong,
  encodeResult,
  FrameDecoder,
  FrameType,
  PREFACE,
} from './frames.js';
import { DEFAULT_TCP_SERVER_LIMITS, type TcpServerLimits } from './limits.js';

/** Options of {@link startTcpRpcServer}. */
export interface TcpRpcServerOptions extends RpcListenOptions, Partial<TcpServerLimits> {
  /** Codec of bodies. Default: the tagged JSON codec. */
  readonly codec?: Codec;
  /**
   * The certificate served when `secure` is true; with `clientCert`, callers must present a client
   * certificate signed by `ca` (mutual TLS).
   */
  readonly tls?: RpcTlsMaterial | undefined;
}

/** How long a connection told to go away (idle, or the server drains) may stay before it is cut. */
const GOAWAY_GRACE_MS = 5_000;

/**
 * Starts the server and resolves once it listens. `close(drainTimeoutMs)` stops accepting, sends GOAWAY
 * on every connection (clients open no new calls on it), answers calls that arrive meanwhile with
 * `REMOTE_UNAVAILABLE` (`details.reason: "draining"`), waits up to `drainTimeoutMs` for the calls in
 * flight to be answered and for clients to close, then closes what is left.
 */
export async function startTcpRpcServer(options: TcpRpcServerOptions): Promise<RpcServer> {
  const limits = limitsWithDefaults<TcpServerLimits>(options, DEFAULT_TCP_SERVER_LIMITS);
  const connections = new Set<ServerConnection>();
  const shared: Shared = {
    options,
    codec: options.codec ?? jsonCodec,
    limits,
    draining: false,
    inFlight: 0,
    onIdle: undefined,
    connections,
    contracts: contractsFrame(options),
  };
  const onSocket = (socket: Socket) => {
    if (connections.size >= limits.maxConnections || shared.draining) {
      refuseConnection(socket, shared);
      return;
    }
    const connection = new ServerConnection(socket, shared);
    connections.add(connection);
    socket.once('close', () => {
      connections.delete(connection);
      if (connections.size === 0) shared.onIdle?.();
    });
  };
  const server: Server = options.secure
    ? createSecureServer(options.tls, limits, onSocket)
    : createNetServer({ noDelay: true }, onSocket);
  // A hard bound above the polite one: sockets refused politely (or mid-handshake) cannot pile up either.
  server.maxConnections = limits.maxConnections * 2;
  if (options.secure) {
    server.on('tlsClientError', (_error: Error, socket: Socket) => socket.destroy());
  }

  const url = await listen(server, options.port, options.host, options.secure === true ? 'tcps' : 'tcp');
  const sweeper = setInterval(
    () => {
      const now = Date.now();
      for (const connection of connections) connection.sweep(now);
    },
    Math.max(
      10,
      Math.min(
        1_000,
        Math.floor(Math.min(limits.headersTimeout, limits.frameTimeout, limits.idleTimeout) / 4),
      ),
    ),
  );
  sweeper.unref();

  return rpcServerHandle(
    url,
    () => shared.inFlight,
    async (drainTimeoutMs) => {
      shared.draining = true;
      const closed = stopAccepting(server);
      for (const connection of connections) connection.goAway();
      if (connections.size > 0) {
        await settleWithin(
          new Promise<void>((resolve) => {
            shared.onIdle = resolve;
          }),
          drainTimeoutMs,
        );
      }
      clearInterval(sweeper);
      for (const connection of connections) connection.destroy();
      await closed;
    },
  );
}

/** What every connection of one server shares. */
interface Shared {
  readonly options: TcpRpcServerOptions;
  readonly codec: Codec;
  readonly limits: TcpServerLimits;
  draining: boolean;
  /** Calls being handled, over every connection. */
  inFlight: number;
  /** Told when the last connection closed, while the server drains. */
  onIdle: (() => void) | undefined;
  readonly connections: Set<ServerConnection>;
  /** The CONTRACTS frame every connection gets once; undefined when the dispatcher names no fingerprints. */
  readonly contracts: Buffer | undefined;
}

/** The CONTRACTS frame of the hosted services, encoded once for every connection. */
function contractsFrame(options: TcpRpcServerOptions): Buffer | undefined {
  const fingerprints = options.dispatcher.fingerprints?.();
  if (fingerprints === undefined) return undefined;
  return encodeContracts((options.codec ?? jsonCodec).encode({ ...fingerprints }));
}

function createSecureServer(
  tls: RpcTlsMaterial | undefined,
  limits: TcpServerLimits,
  onSocket: (socket: Socket) => void,
): Server {
  return createTlsServer(
    { ...tlsServerOptions(tls, 'tcps'), handshakeTimeout: limits.headersTimeout },
    (socket) => {
      socket.setNoDelay(true);
      onSocket(socket);
    },
  );
}

/** The ERROR frame, id 0, that tells a connection why it is closed; then the connection ends. */
function connectionError(codec: Codec, error: unknown): Buffer {
  const { status, body } = serializeError(error);
  return encodeError(0, status, codec.encode(body));
}

/** Over `maxConnections`, or draining: the client reads the preface and why, then the connection ends. */
function refuseConnection(socket: Socket, shared: Shared): void {
  const why = shared.draining
    ? new RemoteUnavailableError('this process is shutting down; call again later', {
        details: { reason: 'draining' },
      })
    : new RemoteUnavailableError(
        `this process already has ${shared.limits.maxConnections} connections open; call again later or raise rpc.maxConnections`,
        { details: { reason: 'connections', limit: shared.limits.maxConnections } },
      );
  socket.on('error', () => undefined);
  socket.end(Buffer.concat([PREFACE, connectionError(shared.codec, why)]));
  const timer = setTimeout(() => socket.destroy(), 1_000);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

const HTTP_METHOD = /^(GET|POST|PUT|HEAD|DELETE|OPTIONS|PATCH|CONNECT|TRACE|PRI) /;

/** A call being handled: its context, and the head it came with. */
interface ServedCall {
  readonly state: CallState;
  readonly head: CallHead;
  readonly caller: string | undefined;
}

/** One client connection: its decoder, its calls in flight, its timers' bookkeeping. */
class ServerConnection {
  private readonly decoder: FrameDecoder;
  private readonly calls = new Map<number, ServedCall>();
  /** Calls admitted from their head whose body is still arriving: id → the admitted head. */
  private readonly admitted = new Map<number, { head: CallHead; caller: string | undefined }>();
  private readonly opened = Date.now();
  private prefaceSeen = false;
  /** When the connection last had no call in flight and no frame in progress began (epoch ms). */
  private idleSince = Date.now();
  /** When the frame in progress began, or 0. */
  private frameSince = 0;
  /** When GOAWAY was sent, or 0. */
  private goneAwayAt = 0;
  private corked = false;
  private closed = false;
  private paused = false;
  /** True once the CONTRACTS frame was sent (after the first authenticated call). */
  private announced = false;

  constructor(
    private readonly socket: Socket,
    private readonly shared: Shared,
  ) {
    const { limits } = shared;
    this.decoder = new FrameDecoder(
      { bodyLimit: limits.bodyLimit, headLimit: limits.maxHeaderSize },
      (frame) => this.onFrame(frame),
      (matched, received) => this.onPreface(matched, received),
      (message) => this.breakConnection(new RpcBadRequestError(`${message}; the connection is closed`)),
      (type, id, head, bodyBytes) => this.admit(type, id, head, bodyBytes),
    );
    socket.on('data', (chunk: Buffer) => {
      this.frameSince ||= Date.now();
      this.decoder.push(chunk);
      if (!this.decoder.partial) this.frameSince = 0;
    });
    socket.on('drain', () => {
      if (this.paused) {
        this.paused = false;
        socket.resume();
      }
    });
    socket.on('error', () => undefined);
    socket.once('close', () => this.onClose());
  }

  /** Checks the connection's timers: preface, frame in progress, idle, GOAWAY grace. */
  sweep(now: number): void {
    if (this.closed) return;
    const { limits } = this.shared;
    if (!this.prefaceSeen) {
      if (now - this.opened > limits.headersTimeout) this.socket.destroy();
      return;
    }
    if (this.frameSince > 0 && now - this.frameSince > limits.frameTimeout) {
      this.breakConnection(
        new RpcBadRequestError(
          `a frame was not received whole within ${limits.frameTimeout} ms; the connection is closed`,
        ),
      );
      return;
    }
    if (this.goneAwayAt > 0) {
      if (this.calls.size === 0 && now - this.goneAwayAt > GOAWAY_GRACE_MS) this.socket.destroy();
      return;
    }
    if (this.calls.size === 0 && this.frameSince === 0 && now - this.idleSince > limits.idleTimeout) {
      this.goAway();
    }
  }

  /** Tells the client to open no new call here; the calls it sent are still answered. */
  goAway(): void {
    if (this.closed || this.goneAwayAt > 0) return;
    this.goneAwayAt = Date.now();
    if (!this.prefaceSeen) {
      this.socket.destroy();
      return;
    }
    this.write(encodeControl(FrameType.GOAWAY, 0));
  }

  /** Closes the socket at once; calls in flight are aborted. */
  destroy(): void {
    this.socket.destroy();
  }

  private onPreface(matched: boolean, received: Buffer): void {
    if (!matched) {
      this.closed = true;
      if (HTTP_METHOD.test(received.toString('latin1'))) {
        const body = JSON.stringify({
          error: {
            code: 'RPC_BAD_REQUEST',
            message:
              "this port speaks Blueprint's tcp RPC, not HTTP; call it with the tcp transport or give the process an http:// address",
          },
        });
        this.socket.end(
          `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        );
      } else this.socket.end();
      const timer = setTimeout(() => this.socket.destroy(), 1_000);
      timer.unref();
      return;
    }
    this.prefaceSeen = true;
    this.socket.write(PREFACE);
  }

  /** Decides from a frame's head whether its body is read. */
  private admit(type: number, id: number, head: Buffer, bodyBytes: number): boolean {
    if (type === FrameType.DESCRIBE) {
      this.describe(id, head);
      return false;
    }
    if (type !== FrameType.CALL) return true;
    if (this.calls.has(id) || this.admitted.has(id)) {
      this.breakConnection(new RpcBadRequestError(`call id ${id} is already in flight on this connection`));
      return false;
    }
    const call = decodeCallHead(head);
    if (call === undefined) {
      this.refuse(id, undefined, new RpcBadRequestError('the call frame has a malformed head'));
      return false;
    }
    const { service, method } = call;
    if (this.shared.draining) {
      const error = new RemoteUnavailableError(
        `${service}.${method}: this process is shutting down; call again later`,
        { details: { reason: 'draining' } },
      );
      this.refuse(id, call, error);
      return false;
    }
    let caller: string | undefined;
    const authenticate = this.shared.options.authenticate;
    if (authenticate !== undefined) {
      try {
        caller = authenticate(call.credential).caller;
      } catch (error) {
        this.refuse(id, call, error);
        return false;
      }
    }
    if (!this.announced) this.announce();
    if (!this.shared.options.dispatcher.has(service, method)) {
      this.refuse(id, call, unknownMethodError(service, method));
      return false;
    }
    const limit = this.shared.limits.bodyLimit;
    if (bodyBytes > limit) {
      const error = new RpcPayloadTooLargeError(
        `request body of ${bodyBytes} bytes is over the limit of ${limit} bytes; send less or raise rpc.bodyLimit`,
        { details: { limit } },
      );
      this.refuse(id, call, error);
      return false;
    }
    const maxInFlight = this.shared.limits.maxInFlight;
    if (this.calls.size + this.admitted.size >= maxInFlight) {
      const error = new RemoteUnavailableError(
        `${service}.${method}: this connection already has ${maxInFlight} calls in flight; call again later or raise rpc.maxInFlight`,
        { details: { reason: 'in-flight', limit: maxInFlight } },
      );
      this.refuse(id, call, error);
      return false;
    }
    this.admitted.set(id, { head: call, caller });
    return true;
  }

  /**
   * Sends the fingerprints of the served contracts, once, before any answer that depends on them: only to
   * a caller that authenticated, so an anonymous connection learns nothing of what is hosted.
   */
  private announce(): void {
    this.announced = true;
    if (this.shared.contracts !== undefined) this.write(this.shared.contracts);
  }

  /** Answers a DESCRIBE frame: the description of a hosted service's contract, to an authenticated caller. */
  private describe(id: number, head: Buffer): void {
    const call = decodeCallHead(head);
    if (call === undefined) {
      this.refuse(id, undefined, new RpcBadRequestError('the describe frame has a malformed head'));
      return;
    }
    const authenticate = this.shared.options.authenticate;
    if (authenticate !== undefined) {
      try {
        authenticate(call.credential);
      } catch (error) {
        this.refuse(id, call, error);
        return;
      }
    }
    if (!this.announced) this.announce();
    const description = this.shared.options.dispatcher.describe?.(call.service);
    if (description === undefined) {
      this.refuse(
        id,
        call,
        new RpcUnknownMethodError(
          'no service of that name is hosted here; describe a service this process hosts',
        ),
      );
      return;
    }
    this.write(encodeResult(id, this.shared.codec.encode(description)));
  }

  private onFrame(frame: DecodedFrame): void {
    switch (frame.type) {
      case FrameType.CALL:
        this.onCall(frame);
        return;
      case FrameType.CANCEL: {
        const call = this.calls.get(frame.id);
        if (call === undefined) return;
        this.finish(frame.id, call);
        call.state.abort(new AbortedError(`${call.head.service}.${call.head.method}: the caller cancelled`));
        return;
      }
      case FrameType.PING:
        this.write(encodePong(frame.id, this.shared.draining || this.goneAwayAt > 0));
        return;
      default:
        this.breakConnection(
          new RpcBadRequestError(
            `frame type ${frame.type} is not one a client sends; the connection is closed`,
          ),
        );
    }
  }

  private onCall(frame: DecodedFrame): void {
    const { id } = frame;
    const admitted = this.admitted.get(id);
    if (admitted === undefined) return;
    this.admitted.delete(id);
    const { head, caller } = admitted;
    const body = frame.body!;
    let input: unknown;
    try {
      input = body.length === 0 ? undefined : this.shared.codec.decode(body.toString('utf8'));
    } catch (error) {
      // Only a coded error's message is shown: anything else may carry internal text.
      const reason = isBlueprintError(error) ? error.message : 'it cannot be decoded';
      this.refuse(id, head, new RpcBadRequestError(`the request body was refused: ${reason}`));
      return;
    }
    const headers = head.headers;
    const correlationId = headers['x-correlation-id'];
    if (correlationId !== undefined && !isValidCorrelationId(correlationId)) {
      headers['x-correlation-id'] = randomUUID();
    }
    const state = new CallState(
      // Beyond setTimeout's range (about 24 days) a deadline timer would fire at once: no deadline then.
      head.timeoutMs > 0 && head.timeoutMs <= 0x7fff_ffff ? Date.now() + head.timeoutMs : undefined,
      headers,
      caller,
    );
    const call: ServedCall = { state, head, caller };
    this.calls.set(id, call);
    this.shared.inFlight++;
    this.shared.options.dispatcher.dispatch(head.service, head.method, input, state).then(
      (result) => {
        if (this.calls.get(id) !== call) return;
        let text: string;
        try {
          text = this.shared.codec.encode(result);
        } catch (error) {
          this.finish(id, call);
          this.answerError(id, call.head, error);
          return;
        }
        this.finish(id, call);
        this.write(encodeResult(id, text));
      },
      (error: unknown) => {
        if (this.calls.get(id) !== call) return;
        this.finish(id, call);
        this.answerError(id, call.head, error);
      },
    );
  }

  /** A call ended (answered or cancelled): it leaves the counts. */
  private finish(id: number, call: ServedCall): void {
    this.calls.delete(id);
    call.state.end();
    this.shared.inFlight--;
    if (this.calls.size === 0) this.idleSince = Date.now();
  }

  /** Answers a call refused before dispatch, and reports it. */
  private refuse(id: number, head: CallHead | undefined, error: unknown): void {
    const correlationId = head?.headers['x-correlation-id'];
    this.shared.options.onRefused?.({
      service: head?.service,
      method: head?.method,
      error,
      correlationId:
        correlationId === undefined || isValidCorrelationId(correlationId) ? correlationId : undefined,
    });
    this.answerError(id, head, error);
  }

  private answerError(id: number, head: CallHead | undefined, error: unknown): void {
    let serialized: ReturnType<typeof serializeError>;
    if (isBlueprintError(error) && error.code !== 'INTERNAL') serialized = serializeError(error);
    else {
      const given = head?.headers['x-correlation-id'];
      const correlationId = given !== undefined && isValidCorrelationId(given) ? given : randomUUID();
      this.shared.options.onHiddenError?.({
        service: head?.service,
        method: head?.method,
        error,
        correlationId,
      });
      serialized = serializeError(error, { hideInternal: { correlationId } });
    }
    let text: string;
    try {
      text = this.shared.codec.encode(serialized.body);
    } catch {
      text = JSON.stringify({ code: serialized.body.code, message: serialized.body.message });
    }
    this.write(encodeError(id, serialized.status, text));
  }

  /** Tells the client why in an ERROR frame with id 0, then closes. */
  private breakConnection(error: unknown): void {
    if (this.closed) return;
    this.shared.options.onRefused?.({
      service: undefined,
      method: undefined,
      error,
      correlationId: undefined,
    });
    this.decoder.stop();
    this.closed = true;
    this.socket.end(connectionError(this.shared.codec, error));
    const timer = setTimeout(() => this.socket.destroy(), 1_000);
    timer.unref();
    this.socket.once('close', () => clearTimeout(timer));
  }

  /** Writes a frame, batched with the others of this tick; stops reading while the client does not read. */
  private write(frame: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(uncork, this);
    }
    if (!this.socket.write(frame) && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /** Ends the tick's batch. */
  uncork(): void {
    this.corked = false;
    this.socket.uncork();
  }

  private onClose(): void {
    this.closed = true;
    this.decoder.stop();
    this.admitted.clear();
    for (const [id, call] of this.calls) {
      this.finish(id, call);
      call.state.abort(new AbortedError(`${call.head.service}.${call.head.method}: the caller went away`));
    }
  }
}

function uncork(connection: ServerConnection): void {
  connection.uncork();
}
