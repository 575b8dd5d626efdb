/**
 * What the stores on a server (`redis`, `memcached`) share: the key prefix, signing entries, the optional
 * cross-process lock, one shared timer for the command timeouts, the values decoded last, the listeners
 * of their breakers' state changes, one `connect` at a time, and the codec between `set` and the store's
 * own `setEncoded`. Each store adds its commands, its entry layout and its connections.
 */
import type { MessageSigner } from '@blueprint/core/plugin';
import { decodeCacheValue, encodeCacheValue } from '../transport/driver.js';
import type { LockLease, StoreSetOptions } from '../transport/store.js';
import { Breaker, type BreakerOptions, type BreakerState } from './breaker.js';
import { CommandTimeouts } from './command-timeouts.js';
import { DecodedValues } from './decoded-values.js';
import { signText, verifiedEntry } from './signed-text.js';

/** The key prefix of a store whose options give none, outside an app. */
export const DEFAULT_PREFIX = 'cache:';

/** Called on a breaker's state change. */
export type BreakerListener = (state: BreakerState, previous: BreakerState) => void;

/** The parsed options a remote store's base is built from. */
export interface RemoteStoreOptions {
  /** The key prefix. Default: {@link DEFAULT_PREFIX}. */
  readonly prefix?: string | undefined;
  /** How long one command may take, in ms. */
  readonly commandTimeout: number;
  /** The cross-process lock on misses (ms); off when absent. */
  readonly lock?: { readonly ttl: number; readonly wait: number } | undefined;
  /** Signs what the store writes and checks what it reads; nothing signed when absent. */
  readonly signer?: MessageSigner | undefined;
}

/** See the module doc. */
export abstract class RemoteStore {
  /** The key prefix. */
  readonly prefix: string;
  /** How long a process waits for another lock holder's value, in ms (when the lock is on). */
  readonly lockWait: number | undefined;
  /** Takes the cross-process lock of `key`; present only when the `lock` option is set. */
  readonly lock?: (key: string) => Promise<LockLease | undefined>;
  /** How long a lock is held at most, in ms (when the lock is on). */
  protected readonly lockTtl: number | undefined;
  protected readonly signer: MessageSigner | undefined;
  protected readonly commandTimeouts: CommandTimeouts;
  /** Values decoded on earlier reads, so an unchanged entry is not decoded again. */
  protected readonly decoded = new DecodedValues();
  private readonly breakerListeners: BreakerListener[] = [];
  private connecting: Promise<void> | undefined;

  /**
   * `server` names the server in messages (`"Redis"`, `"memcached"`); `undecodable` gives the message of
   * an entry the codec cannot decode.
   */
  constructor(
    options: RemoteStoreOptions,
    private readonly server: string,
    private readonly undecodable: (key: string, error: unknown) => string,
  ) {
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.signer = options.signer;
    this.commandTimeouts = new CommandTimeouts(options.commandTimeout);
    this.lockTtl = options.lock?.ttl;
    this.lockWait = options.lock?.wait;
    if (options.lock !== undefined) this.lock = (key) => this.takeLock(key);
  }

  /** A breaker whose state changes reach the listeners of {@link onBreakerChange}. */
  protected watchedBreaker(options: Omit<BreakerOptions, 'onChange'>): Breaker {
    return new Breaker({
      ...options,
      onChange: (state, previous) => {
        for (const listener of this.breakerListeners) listener(state, previous);
      },
    });
  }

  /** Calls `listener` on every state change of the store's breakers. */
  onBreakerChange(listener: BreakerListener): void {
    this.breakerListeners.push(listener);
  }

  /** Opens the store's connections; concurrent and later calls share the first until `close()`. */
  connect(): Promise<void> {
    this.connecting ??= this.open();
    return this.connecting;
  }

  /** Stops the command timer, forgets the decoded values and closes the store's connections. */
  async close(): Promise<void> {
    this.connecting = undefined;
    this.commandTimeouts.stop();
    this.decoded.clear();
    await this.disconnect();
  }

  /** The text of an entry stored under the server key `name`: signed with the signer, as is without one. */
  protected signed(text: string, name: string): string {
    return this.signer === undefined ? text : signText(this.signer, text, name);
  }

  /**
   * The text of a signed entry read under the server key `name`, after its signature; `CACHE_ENTRY_CORRUPT`
   * when the signature is wrong. Only with a signer.
   */
  protected verified(key: string, name: string, text: string): string {
    return verifiedEntry(this.signer!, this.server, key, name, text);
  }

  /** Decodes a value read by the store's `getRaw`. @internal */
  decode(key: string, encoded: string): unknown {
    return decodeCacheValue(key, encoded, this.undecodable);
  }

  /** Encodes `value` with the cache codec and stores it with the store's own {@link setEncoded}. */
  async set(key: string, value: unknown, options: StoreSetOptions): Promise<void> {
    await this.setEncoded(key, encodeCacheValue(key, value), options);
  }

  /** Stores an encoded value. @internal */
  abstract setEncoded(key: string, encoded: string, options: StoreSetOptions): Promise<void>;

  /** Opens the connections (once per {@link connect} until `close()`). */
  protected abstract open(): Promise<void>;

  /** Closes the connections the store opened. */
  protected abstract disconnect(): Promise<void>;

  /** Takes the lock of `key`, or resolves to `undefined` when another process holds it. */
  protected abstract takeLock(key: string): Promise<LockLease | undefined>;
}
