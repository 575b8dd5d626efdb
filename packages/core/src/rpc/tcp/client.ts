/**
 * The `tcp` RPC client: a few persistent connections to one remote process (one replica), each
 * carrying many calls at once. Connections open on first use, are replaced when they drop, and close
 * when idle.
 */
import { CREDENTIAL_HEADER } from '../../auth/credentials.js';
import { jsonCodec } from '../../codec.js';
import type { CallContext } from '../../contract.js';
import {
  AbortedError,
  isBlueprintError,
  OptionsError,
  RemoteUnavailableError,
  TimeoutError,
} from '../../errors.js';
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
 * Creates the client of one remote process. It sends the caller's remaining time with each call (the
 * server stops work the caller no longer waits for), a cancel frame when the caller's signal aborts or
 * its time runs out, and the propagated headers and credential of the call context.
 */
export function createTcpRpcClient(options: TcpRpcClientOptions): RpcClient {
  const url = options.url.replace(/\/+$/, '');
  const { host, port, secure } = parseTcpAddress(url);
  const codec = options.codec ?? jsonCodec;
  const defaultTimeout = options.timeout ?? 10_000;
  const idleTimeout = options.idleTimeout ?? 60_000;
  const slots: (ClientConnection | undefined)[] = Array.from({
    length: Math.max(1, options.connections ?? 1),
  });
  const open = new Set<ClientConnection>();
  let turn = 0;
  let closed = false;
  let sweeper: NodeJS.Timeout | undefined;

  const config: ConnectionConfig = {
    url,
    host,
    port,
    tls: secure ? (options.tls ?? {}) : undefined,
    codec,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    connectTimeout: options.connectTimeout ?? 10_000,
    errorsFor: options.errorsFor ?? (() => []),
    onRetired(connection) {
      const slot = slots.indexOf(connection);
      if (slot !== -1) slots[slot] = undefined;
    },
    contracts: options.versions?.forReplica(options.process ?? url, url, (service, credential) =>
      pick().call({
        service,
        method: '',
        body: '',
        timeoutMs: defaultTimeout,
        headers: undefined,
        credential,
        signal: undefined,
        describe: true,
      }),
    ),
  };

  const sweep = () => {
    const now = Date.now();
    for (const connection of open) {
      if (connection.inFlight === 0 && now - connection.idleSince >= idleTimeout) void connection.retire();
    }
  };

  /** The next connection in turn, opened when its slot is empty. */
  const pick = (): ClientConnection => {
    const slot = turn;
    turn = slot + 1 === slots.length ? 0 : slot + 1;
    const existing = slots[slot];
    if (existing?.usable) return existing;
    const connection = new ClientConnection(config);
    slots[slot] = connection;
    open.add(connection);
    void connection.closed.then(() => {
      open.delete(connection);
      if (open.size === 0 && sweeper !== undefined) {
        clearInterval(sweeper);
        sweeper = undefined;
      }
    });
    if (sweeper === undefined && !closed) {
      sweeper = setInterval(sweep, Math.max(100, Math.min(idleTimeout / 2, 10_000)));
      sweeper.unref();
    }
    return connection;
  };

  return {
    call(service, method, input, context?: CallContext) {
      const deadline =
        context?.deadline ?? (context?.timeout !== undefined ? Date.now() + context.timeout : undefined);
      const timeoutMs = deadline !== undefined ? deadline - Date.now() : defaultTimeout;
      if (closed) {
        return Promise.reject(
          new RemoteUnavailableError(`${service}.${method}: the client of ${url} is closed`, {
            details: { url },
          }),
        );
      }
      if (timeoutMs <= 0) {
        return Promise.reject(
          new TimeoutError(`${service}.${method}: the deadline passed before the call was sent`),
        );
      }
      const signal = context?.signal;
      if (signal?.aborted) {
        const reason: unknown = signal.reason;
        return Promise.reject(
          isBlueprintError(reason)
            ? reason
            : new AbortedError(`${service}.${method} was aborted by the caller`, { cause: reason }),
        );
      }
      let body: string;
      try {
        body = input === undefined ? '' : codec.encode(input);
      } catch (error) {
        return Promise.reject(error);
      }
      const headers = context?.headers;
      return pick().call({
        service,
        method,
        body,
        timeoutMs,
        headers,
        credential: headers?.[CREDENTIAL_HEADER],
        signal,
      });
    },

    async ping(timeoutMs = 1_000) {
      const started = Date.now();
      if (closed) return { ok: false, details: { url, error: 'closed' } };
      try {
        const { ok, draining } = await pick().ping(timeoutMs);
        return { ok, details: { url, ms: Date.now() - started, ...(draining ? { state: 'draining' } : {}) } };
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).message;
        return { ok: false, details: { url, error: code } };
      }
    },

    async close() {
      closed = true;
      if (sweeper !== undefined) clearInterval(sweeper);
      sweeper = undefined;
      await Promise.all([...open].map((connection) => connection.retire()));
    },
  };
}
