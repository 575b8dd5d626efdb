/**
 * One connection of a `tcp` RPC client: a socket (TLS for `tcps://`) carrying many calls at once,
 * matched to their answers by id. Frames written in one tick go out in one write; when the socket's
 * buffer is full, further frames wait in a backlog (and a call that times out or is aborted there is
 * never sent).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Codec } from '../../codec.js';
import type { ReplicaContracts } from '../../contracts/version-guard.js';
import {
  type BlueprintError,
  type CodedErrorClass,
  RemoteUnavailableError,
  type SerializedError,
} from '../../errors.js';
import { abortError } from '../../timing.js';
import { type RpcClientTls, tlsConnectOptions } from '../client-tls.js';
import { answeredError, callTimedOut, codedErrorIn, responseTooLarge } from '../remote-errors.js';
import { type DecodedFrame, encodeCall, encodeControl, FrameDecoder, FrameType, PREFACE } from './frames.js';

/** What every connection of one client shares. */
export interface ConnectionConfig {
  /** The remote address, for messages. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** TLS options for a `tcps://` address; undefined for `tcp://`. */
  readonly tls: RpcClientTls | undefined;
  readonly codec: Codec;
  /** Largest answer body held; a larger one fails its call. */
  readonly bodyLimit: number;
  /** How long connecting (and the TLS handshake) may take, in ms. */
  readonly connectTimeout: number;
  readonly errorsFor: (service: string) => readonly CodedErrorClass[];
  /** Told when the connection can take no new call (closed, or the server is going away). */
  readonly onRetired: (connection: ClientConnection) => void;
  /**
   * The caller's guard against contract version skew for this replica: answers for a service whose
   * fingerprint (from the server's CONTRACTS frame) differs from the caller's go through it. Undefined: no check.
   */
  readonly contracts?: ReplicaContracts | undefined;
}

/** What a call puts on the wire. */
export interface OutgoingCall {
  readonly service: string;
  readonly method: string;
  readonly body: string;
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly credential: string | undefined;
  readonly signal: AbortSignal | undefined;
  /** True for a DESCRIBE frame (the description of `service`'s contract) instead of a call. */
  readonly describe?: boolean;
}

/** A call sent (or waiting in the backlog) and not answered yet. */
class PendingCall {
  timer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;
  /** True once its frame was handed to the socket. */
  sent = false;

  constructor(
    readonly service: string,
    readonly method: string,
    readonly timeoutMs: number,
    readonly signal: AbortSignal | undefined,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: unknown) => void,
    /** False for a DESCRIBE: its answer is not a call's, so the version guard leaves it alone. */
    readonly guarded: boolean,
  ) {}

  /** Clears its timer and abort listener. */
  settle(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
  }
}

/** Ids wrap before 2^32; a connection never has that many calls open. */
const MAX_ID = 0xffff_ffff;
/** The longest remaining time a call head carries (u32 ms, about 49 days); longer is sent as this. */
const MAX_TIMEOUT_MS = 0xffff_ffff;
/** The longest delay setTimeout takes. */
const MAX_TIMER_MS = 0x7fff_ffff;
/** Largest head an answer carries (the ERROR status). */
const ANSWER_HEAD_LIMIT = 1024;

type State = 'connecting' | 'open' | 'retired' | 'closed';

/** One multiplexed connection to a remote process. */
export class ClientConnection {
  private readonly socket: Socket;
  private readonly decoder: FrameDecoder;
  private readonly calls = new Map<number, PendingCall>();
  private readonly pings = new Map<number, (draining: boolean | Error) => void>();
  private readonly backlog: { readonly id: number; readonly frame: Buffer; readonly call: boolean }[] = [];
  private nextId = 1;
  private state: State = 'connecting';
  /** True once the socket connected (and, for TLS, the handshake finished). */
  private connected = false;
  private corked = false;
  /** The socket's error, if it failed. */
  private failure: Error | undefined;
  /** Why the server closed the connection, when it said so (an ERROR frame with id 0). */
  private refusal: string | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private closedPromise: Promise<void>;
  /**
   * The services whose served fingerprint differs from the caller's, from the server's CONTRACTS frame;
   * undefined while every one matches (or the server named none), so a matching answer costs one check.
   */
  private skewed: Map<string, string> | undefined;
  /** Resolves once the socket has closed. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }
  /** When the last call ended (epoch ms), for idle closing. */
  idleSince = Date.now();

  constructor(private readonly config: ConnectionConfig) {
    const { host, port, tls } = config;
    this.socket =
      tls === undefined
        ? netConnect({ host, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 30_000 })
        : tlsConnect({
            host,
            port,
            ...(isIp(host) ? {} : { servername: host }),
            ...tlsConnectOptions(tls),
            minVersion: 'TLSv1.2',
          });
    if (tls !== undefined) {
      this.socket.setNoDelay(true);
      this.socket.setKeepAlive(true, 30_000);
    }
    this.decoder = new FrameDecoder(
      { bodyLimit: config.bodyLimit, headLimit: ANSWER_HEAD_LIMIT },
      (frame) => this.onFrame(frame),
      (matched, received) => {
        if (!matched) this.protocolError(`it answered ${printable(received)}; is it an http:// address?`);
      },
      (message) => this.protocolError(message),
    );
    this.connectTimer = setTimeout(() => {
      const error = Object.assign(new Error(`connecting took over ${config.connectTimeout} ms`), {
        code: 'ETIMEDOUT',
      });
      this.socket.destroy(error);
    }, config.connectTimeout);
    this.connectTimer.unref();
    this.socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
      clearTimeout(this.connectTimer);
      this.connected = true;
      if (this.state === 'connecting') this.state = 'open';
    });
    this.socket.on('data', (chunk: Buffer) => this.decoder.push(chunk));
    this.socket.on('drain', () => this.flushBacklog());
    this.socket.on('error', (error) => {
      this.failure ??= error;
    });
    this.closedPromise = new Promise((resolve) => this.socket.once('close', resolve));
    this.socket.once('close', () => this.onClose());
    this.write(PREFACE, 0, false);
  }

  /** True while it takes new calls. */
  get usable(): boolean {
    return this.state === 'connecting' || this.state === 'open';
  }

  /** Calls waiting for their answer. */
  get inFlight(): number {
    return this.calls.size;
  }

  /** Sends a call; resolves to the decoded result or rejects with the coded error. */
  call(outgoing: OutgoingCall): Promise<unknown> {
    const id = this.allocateId();
    let frame: Buffer;
    try {
      frame = encodeCall({
        ...(outgoing.describe === true ? { type: FrameType.DESCRIBE } : {}),
        id,
        timeoutMs: Math.min(Math.ceil(outgoing.timeoutMs), MAX_TIMEOUT_MS),
        service: outgoing.service,
        method: outgoing.method,
        headers: outgoing.headers,
        credential: outgoing.credential,
        body: outgoing.body,
      });
    } catch (error) {
      return Promise.reject(
        new RemoteUnavailableError(`${outgoing.service}.${outgoing.method}: ${(error as Error).message}`, {
          cause: error,
        }),
      );
    }
    return new Promise((resolve, reject) => {
      const call = new PendingCall(
        outgoing.service,
        outgoing.method,
        outgoing.timeoutMs,
        outgoing.signal,
        resolve,
        reject,
        outgoing.describe !== true,
      );
      this.calls.set(id, call);
      // setTimeout fires at once for a delay over 2^31 - 1 ms (about 24 days): such a call gets no timer.
      if (outgoing.timeoutMs <= MAX_TIMER_MS) {
        call.timer = setTimeout(() => this.timeOut(id), outgoing.timeoutMs);
        call.timer.unref();
      }
      const signal = outgoing.signal;
      if (signal !== undefined) {
        call.onAbort = () => this.abort(id, signal);
        signal.addEventListener('abort', call.onAbort, { once: true });
      }
      this.write(frame, id, true);
    });
  }

  /** Asks the server whether it is live; resolves to whether it serves (false while it drains). */
  ping(timeoutMs: number): Promise<{ ok: boolean; draining: boolean }> {
    const id = this.allocateId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings.delete(id);
        reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      timer.unref();
      this.pings.set(id, (answer) => {
        clearTimeout(timer);
        this.pings.delete(id);
        if (answer instanceof Error) reject(answer);
        else resolve({ ok: !answer, draining: answer });
      });
      this.write(encodeControl(FrameType.PING, id), id, false);
    });
  }

  /** Takes no new calls; closes once the calls in flight are answered. Resolves once closed. */
  retire(): Promise<void> {
    if (this.state === 'connecting' || this.state === 'open') {
      this.state = 'retired';
      this.config.onRetired(this);
    }
    if (this.calls.size === 0 && this.pings.size === 0 && this.state !== 'closed') this.socket.end();
    return this.closedPromise;
  }

  /** Closes the socket at once; calls in flight fail. */
  destroy(): Promise<void> {
    this.socket.destroy();
    return this.closedPromise;
  }

  private allocateId(): number {
    const id = this.nextId;
    this.nextId = id === MAX_ID ? 1 : id + 1;
    return id;
  }

  /** Writes a frame, batched with the others of this tick; queued while the socket's buffer is full. */
  private write(frame: Buffer, id: number, isCall: boolean): void {
    if (this.backlog.length > 0 || this.socket.writableNeedDrain) {
      this.backlog.push({ id, frame, call: isCall });
      return;
    }
    if (isCall) this.calls.get(id)!.sent = true;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(uncork, this);
    }
    this.socket.write(frame);
  }

  /** Ends the tick's batch: the corked frames go out in one write. */
  uncork(): void {
    this.corked = false;
    this.socket.uncork();
  }

  private flushBacklog(): void {
    while (this.backlog.length > 0 && !this.socket.writableNeedDrain) {
      const { id, frame, call } = this.backlog.shift()!;
      if (call) {
        const pending = this.calls.get(id);
        // Timed out or aborted while it waited: never sent, so the server never sees it.
        if (pending === undefined) continue;
        pending.sent = true;
      }
      this.socket.write(frame);
    }
  }

  private onFrame(frame: DecodedFrame): void {
    const { type, id } = frame;
    if (type === FrameType.ERROR && id === 0) {
      this.refusedBy(frame);
      return;
    }
    if (type === FrameType.RESULT || type === FrameType.ERROR) {
      const call = this.calls.get(id);
      if (call === undefined) return;
      this.calls.delete(id);
      call.settle();
      this.ended();
      if (this.skewed !== undefined && call.guarded) {
        const fingerprint = this.skewed.get(call.service);
        if (fingerprint !== undefined) {
          this.settleSkewed(call, frame, fingerprint);
          return;
        }
      }
      try {
        if (type === FrameType.RESULT) {
          if (frame.body === undefined) throw this.tooLarge(call, frame.bodyBytes);
          call.resolve(frame.body.length === 0 ? undefined : this.config.codec.decode(frame.body.toString()));
        } else call.reject(this.errorOf(call, frame));
      } catch (error) {
        call.reject(error);
      }
      return;
    }
    if (type === FrameType.CONTRACTS) {
      this.onContracts(frame);
      return;
    }
    if (type === FrameType.PONG) {
      this.pings.get(id)?.(frame.head[0] === 1);
      return;
    }
    if (type === FrameType.GOAWAY) this.retire();
  }

  /** An answer from a server of another version of the call's contract: the guard decides what it means. */
  private settleSkewed(call: PendingCall, frame: DecodedFrame, fingerprint: string): void {
    const contracts = this.config.contracts!;
    const { service, method } = call;
    let settled: Promise<unknown>;
    try {
      if (frame.type === FrameType.RESULT) {
        if (frame.body === undefined) throw this.tooLarge(call, frame.bodyBytes);
        const value = frame.body.length === 0 ? undefined : this.config.codec.decode(frame.body.toString());
        settled = contracts.result(service, method, fingerprint, value);
      } else settled = contracts.failure(service, method, fingerprint, this.errorOf(call, frame));
    } catch (error) {
      call.reject(error);
      return;
    }
    settled.then(call.resolve, call.reject);
  }

  /** Reads the server's fingerprints: the services served with another version of their contract. */
  private onContracts(frame: DecodedFrame): void {
    const contracts = this.config.contracts;
    if (contracts === undefined || frame.body === undefined) return;
    let served: unknown;
    try {
      served = this.config.codec.decode(frame.body.toString());
    } catch {
      return;
    }
    if (typeof served !== 'object' || served === null || Array.isArray(served)) return;
    const skewed = new Map<string, string>();
    for (const [service, fingerprint] of Object.entries(served)) {
      if (typeof fingerprint === 'string' && contracts.differs(service, fingerprint)) {
        skewed.set(service, fingerprint);
      }
    }
    this.skewed = skewed.size === 0 ? undefined : skewed;
  }

  /** The server closes the connection and says why (too many connections, a broken frame, draining). */
  private refusedBy(frame: DecodedFrame): void {
    let wire: SerializedError | null = null;
    try {
      wire = this.config.codec.decode(frame.body?.toString() ?? '') as SerializedError | null;
    } catch {
      // The reason is only for the message; the close that follows is what counts.
    }
    const message = typeof wire?.message === 'string' ? wire.message : 'no reason given';
    const reason = (wire?.details as { reason?: unknown } | undefined)?.reason;
    // Refused for its number of connections or because the server drains: no call on it ran, so the
    // balancer may send them to another replica, as after a refused connect.
    const unused = reason === 'connections' || reason === 'draining';
    this.refusal = `the server closed the connection: ${message}`;
    this.failure ??= Object.assign(new Error(this.refusal), unused ? { code: 'ECONNREFUSED' } : {});
    this.socket.destroy();
  }

  private errorOf(call: PendingCall, frame: DecodedFrame): BlueprintError {
    const subject = `${call.service}.${call.method}`;
    const status = frame.head.length >= 2 ? frame.head.readUInt16BE(0) : 500;
    if (frame.body === undefined) return this.tooLarge(call, frame.bodyBytes);
    let body: unknown;
    try {
      body = this.config.codec.decode(frame.body.toString());
    } catch {
      body = undefined;
    }
    const known = this.config.errorsFor(call.service);
    return answeredError(codedErrorIn(body), subject, this.config.url, status, call.service, known);
  }

  private tooLarge(call: PendingCall, bytes: number): BlueprintError {
    return responseTooLarge(`${call.service}.${call.method}`, bytes, this.config.bodyLimit);
  }

  private timeOut(id: number): void {
    const call = this.calls.get(id);
    if (call === undefined) return;
    this.forget(id, call);
    call.reject(callTimedOut(`${call.service}.${call.method}`, this.config.url, call.timeoutMs));
  }

  private abort(id: number, signal: AbortSignal): void {
    const call = this.calls.get(id);
    if (call === undefined) return;
    this.forget(id, call);
    call.reject(abortError(signal.reason, `${call.service}.${call.method}`));
  }

  /** Drops a call the caller gave up on; a sent one is cancelled on the server. */
  private forget(id: number, call: PendingCall): void {
    this.calls.delete(id);
    call.settle();
    if (call.sent && this.state !== 'closed') this.write(encodeControl(FrameType.CANCEL, id), id, false);
    this.ended();
  }

  /** After a call ended: a retired connection closes once nothing is in flight. */
  private ended(): void {
    if (this.calls.size > 0) return;
    this.idleSince = Date.now();
    if (this.state === 'retired' && this.pings.size === 0) this.socket.end();
  }

  private protocolError(message: string): void {
    this.failure ??= Object.assign(
      new Error(`${this.config.url} does not speak Blueprint's tcp RPC: ${message}`),
      {
        code: 'ERR_BP_TCP_PROTOCOL',
      },
    );
    this.socket.destroy();
  }

  private onClose(): void {
    const wasConnected = this.connected;
    clearTimeout(this.connectTimer);
    if (this.state !== 'retired') this.config.onRetired(this);
    this.state = 'closed';
    this.decoder.stop();
    this.backlog.length = 0;
    const cause =
      this.failure ??
      Object.assign(new Error('the connection closed before the answer came'), { code: 'ECONNRESET' });
    const code = (cause as { code?: string }).code;
    for (const [id, call] of this.calls) {
      this.calls.delete(id);
      call.settle();
      const why = this.refusal ?? code ?? cause.message;
      const message = wasConnected
        ? `${call.service}.${call.method}: the connection to ${this.config.url} was lost (${why})`
        : `${call.service}.${call.method}: ${this.config.url} cannot be reached (${why})`;
      call.reject(new RemoteUnavailableError(message, { cause, details: { url: this.config.url } }));
    }
    for (const answer of [...this.pings.values()]) answer(cause);
  }
}

function uncork(connection: ClientConnection): void {
  connection.uncork();
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** The first bytes a server answered, readable in a message. */
function printable(bytes: Buffer): string {
  return JSON.stringify(bytes.toString('latin1').replace(/[^\x20-\x7e]/g, '.'));
}
