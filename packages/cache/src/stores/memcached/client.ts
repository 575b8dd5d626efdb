/**
 * The parts of `memjs` (an optional peer dependency) the memcached store uses, typed here so that
 * neither this package's types nor its users need memjs's. One memjs client per server: the store
 * routes keys itself (see `ring.ts`), so each client talks to exactly one server and never fails over.
 */
import { optionalPeer } from '@blueprint/core/transport';
import { CacheDriverMissingError } from '../../errors.js';

/** A memjs callback: `error` is set when the server could not be reached or answered with an error status. */
export type Callback<T> = (error: Error | null, result: T) => void;

/** A memjs client connected to one server. */
export interface MemjsClient {
  get(key: string, callback: (error: Error | null, value: Buffer | null) => void): void;
  set(key: string, value: string, options: { expires: number }, callback: Callback<boolean | null>): void;
  add(key: string, value: string, options: { expires: number }, callback: Callback<boolean | null>): void;
  delete(key: string, callback: Callback<boolean | null>): void;
  close(): void;
}

/** Options memjs takes (times in seconds). */
export interface MemjsOptions {
  readonly retries: number;
  readonly timeout: number;
  readonly conntimeout: number;
  readonly keepAlive: boolean;
  readonly logger: { log(...parts: unknown[]): void };
}

/** The memjs module. */
export interface Memjs {
  readonly Client: { create(servers: string, options: MemjsOptions): MemjsClient };
}

/** Imports memjs once, on first use; rejects with `CACHE_DRIVER_MISSING` when it is not installed. */
export const loadMemjs = optionalPeer<Memjs>(
  { pkg: 'memjs', needed: 'the "memcached" cache store', error: CacheDriverMissingError },
  async () => {
    const module = (await import('memjs' as string)) as { default?: Memjs } & Partial<Memjs>;
    return (module.Client === undefined ? module.default : module) as Memjs;
  },
);

const silent = { log: () => undefined };

/**
 * A memjs client for one `host:port`: one attempt per command (the store has its own breaker), memjs's
 * own response timeout as a backstop to the store's, TCP keep-alive, and no console logging (failures
 * reach the store as errors).
 */
export function createClient(memjs: Memjs, server: string, commandTimeout: number, connectTimeout: number) {
  return memjs.Client.create(server, {
    retries: 1,
    timeout: commandTimeout / 1000,
    conntimeout: connectTimeout / 1000,
    keepAlive: true,
    logger: silent,
  });
}

/** Whether a memjs error is the server's answer (an error status), not a failure to reach it. */
export function isStatusError(error: Error): boolean {
  return /^MemJS [A-Z_]+: /.test(error.message);
}

/** Whether a memjs error is memcached refusing a value over its item size limit. */
export function isTooLargeError(error: Error): boolean {
  return /^MemJS [A-Z_]+: Value too large/.test(error.message);
}
