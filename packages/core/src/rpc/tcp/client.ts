/**
 * The `tcp` RPC client: a few persistent connections to one remote process (one replica), each
 * carrying many calls at once. Connections open on first use, are replaced when they drop, and close
 * when idle.
 */
import type { HealthCheckResult } from '../../app/health.js';
import { CREDENTIAL_HEADER } from '../../auth/credentials.js';
import { type Codec, jsonCodec } from '../../codec.js';
import { type CallContext, callDeadline } from '../../contract.js';
import { type BlueprintError, OptionsError, RemoteUnavailableError, TimeoutError } from '../../errors.js';
import { abortError } from '../../timing.js';
import type { RpcClientOptions } from '../client-options.js';
import type { RpcClient } from '../types.js';
import { ClientConnection, type ConnectionConfig } from './connection.js';

/** Options of {@link createTcpRpcClient}. */
export interface TcpRpcClientOptions extends RpcClientOptions {
  /** Address of the remote process: `tcp://host:port`, or `tcps://host:port` for TLS. */
  readonly url: string;
  /** Connections to the remote process; calls take them in turn. Default 1. */
  readonly connections?: number;
  /** How long a connection without calls stays open, in ms. Default 60000. */
  readonly idleTimeout?: number;
  /** How long connecting (and the TLS handshake) may take, in ms. Default 10000. */
  readonly connectTimeout?: number;
}

/** The host and port of a `tcp://` or `tcps://` address, and whether it means TLS. */
export function parseTcpAddress(url: string): { host: string; port: number; secure: boolean } {
  const match = /^(tcps?):\/\/(\[[^\]]+\]|[^/:?#]+):(\d{1,5})\/?$/i.exec(url);
  if (match === null) {
    throw new OptionsError(
      `invalid tcp RPC address ${JSON.stringify(url)}: use tcp://host:port or tcps://host:port`,
    );
  }
  return {
    host: match[2]!.replace(/^\[(.*)\]$/, '$1'),
    port: Number(match[3]),
    secure: match[1]!.toLowerCase() === 'tcps',
  };
}

/**
 * The connections of one client: `connections` slots taken in turn, each opened on first use and emptied
 * when its connection retires, and a sweeper (running while a connection is open) that retires the
 * connections idle for `idleTimeout`.
 */
class ConnectionPool {
  private readonly config: ConnectionConfig;
  private readonly slots: (ClientConnection | undefined)[];
  private readonly open = new Set<ClientConnection>();
  private readonly idleTimeout: number;
  private turn = 0;
  private sweeper: NodeJS.Timeout | undefined;
  /** True once {@link ConnectionPool.close} was called: calls are refused, and no connection opens a sweeper. */
  closed = false;

  constructor(
    options: TcpRpcClientOptions,
    /** The remote address, without a trailing slash. */
    readonly url: string,
    codec: Codec,
    /** The timeout of a DESCRIBE, the client's default call timeout. */
    private readonly describeTimeout: number,
  ) {
    const { host, port, secure } = parseTcpAddress(url);
    this.idleTimeout = options.idleTimeout ?? 60_000;
    this.slots = Array.from({ length: Math.max(1, options.connections ?? 1) });
    this.config = {
      url,
      host,
      port,
      tls: secure ? (options.tls ?? {}) : undefined,
      codec,
      bodyLimit: options.bodyLimit ?? 1024 * 1024,
      connectTimeout: options.connectTimeout ?? 10_000,
      errorsFor: options.errorsFor ?? (() => []),
      onRetired: (connection) => {
        const slot = this.slots.indexOf(connection);
        if (slot !== -1) this.slots[slot] = undefined;
      },
      contracts: options.versions?.forReplica(options.process ?? url, url, (service, credential) =>
        this.describe(service, credential),
      ),
    };
  }

  /** The next connection in turn, opened when its slot is empty. */
  pick(): ClientConnection {
    const slot = this.turn;
    this.turn = slot + 1 === this.slots.length ? 0 : slot + 1;
    const existing = this.slots[slot];
    if (existing?.usable) return existing;
    const connection = new ClientConnection(this.config);
    this.slots[slot] = connection;
    this.open.add(connection);
    void connection.closed.then(() => {
      this.open.delete(connection);
      if (this.open.size === 0 && this.sweeper !== undefined) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
    });
    if (this.sweeper === undefined && !this.closed) {
      this.sweeper = setInterval(this.sweep, Math.max(100, Math.min(this.idleTimeout / 2, 10_000)));
      this.sweeper.unref();
    }
    return connection;
  }

  /** Refuses new calls and retires every connection; resolves once their calls have finished. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    await Promise.all([...this.open].map((connection) => connection.retire()));
  }

  /** Asks the next connection for the description of `service`'s contract (a DESCRIBE frame). */
  private describe(service: string, credential: string | undefined): Promise<unknown> {
    return this.pick().call({
      service,
      method: '',
      body: '',
      timeoutMs: this.describeTimeout,
      headers: undefined,
      credential,
      signal: undefined,
      describe: true,
    });
  }

  /** Retires the connections idle for `idleTimeout`: the sweeper's callback, made once per pool. */
  private readonly sweep = (): void => {
    const now = Date.now();
    for (const connection of this.open) {
      if (connection.inFlight === 0 && now - connection.idleSince >= this.idleTimeout)
        void connection.retire();
    }
  };
}

/**
 * Why a call cannot be sent: the client is closed, the call's time ran out, or its signal aborted.
 * Undefined when it can.
 */
function unsendable(
  pool: ConnectionPool,
  service: string,
  method: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): BlueprintError | undefined {
  if (pool.closed) {
    return new RemoteUnavailableError(`${service}.${method}: the client of ${pool.url} is closed`, {
      details: { url: pool.url },
    });
  }
  if (timeoutMs <= 0)
    return new TimeoutError(`${service}.${method}: the deadline passed before the call was sent`);
  if (signal?.aborted) return abortError(signal.reason, `${service}.${method}`);
  return undefined;
}

/** The ping of {@link RpcClient.ping} over the next connection: its time, and whether the server drains. */
async function ping(pool: ConnectionPool, timeoutMs: number): Promise<HealthCheckResult> {
  const { url } = pool;
  const started = Date.now();
  if (pool.closed) return { ok: false, details: { url, error: 'closed' } };
  try {
    const { ok, draining } = await pool.pick().ping(timeoutMs);
    return { ok, details: { url, ms: Date.now() - started, ...(draining ? { state: 'draining' } : {}) } };
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).message;
    return { ok: false, details: { url, error: code } };
  }
}

/**
 * Creates the client of one remote process. It sends the caller's remaining time with each call (the
 * server stops work the caller no longer waits for), a cancel frame when the caller's signal aborts or
 * its time runs out, and the propagated headers and credential of the call context.
 */
export function createTcpRpcClient(options: TcpRpcClientOptions): RpcClient {
  const url = options.url.replace(/\/+$/, '');
  const codec = options.codec ?? jsonCodec;
  const defaultTimeout = options.timeout ?? 10_000;
  const pool = new ConnectionPool(options, url, codec, defaultTimeout);

  return {
    call(service, method, input, context?: CallContext) {
      const deadline = callDeadline(context);
      const timeoutMs = deadline !== undefined ? deadline - Date.now() : defaultTimeout;
      const signal = context?.signal;
      const refusal = unsendable(pool, service, method, timeoutMs, signal);
      if (refusal !== undefined) return Promise.reject(refusal);
      let body: string;
      try {
        body = input === undefined ? '' : codec.encode(input);
      } catch (error) {
        return Promise.reject(error);
      }
      const headers = context?.headers;
      return pool.pick().call({
        service,
        method,
        body,
        timeoutMs,
        headers,
        credential: headers?.[CREDENTIAL_HEADER],
        signal,
      });
    },
    ping: (timeoutMs = 1_000) => ping(pool, timeoutMs),
    close: () => pool.close(),
  };
}
