/**
 * The `memcached` store: entries on one or more memcached servers, spread by consistent hashing (see
 * `ring.ts`), with one breaker and one connection per server. Every command has the store's command
 * timeout; a server that fails `breaker.threshold` times in a row is skipped (its keys miss, the cache
 * falls through to the loader) until a probe succeeds, while the other servers keep serving theirs.
 *
 * Layout, with `p` the prefix (see `entry.ts` for the texts and key rules): entry `p` + `k:` + key, tag
 * generation `p` + `t:` + tag, lock `p` + `l:` + key. Memcached cannot list a tag's keys, so tags are
 * generations: a tagged entry records the generation of each of its tags when written, a read compares
 * them with the current ones, and invalidating a tag deletes its generation (one command per tag,
 * whatever the number of entries; they miss from then on and memcached's LRU reclaims them). With a
 * `signer` (auth on), an entry holds `<signature>~<entry text>`, the signature covering the item key and
 * the text, so an entry written without the secret, or copied to another key, is a miss.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { HealthCheckResult } from '@blueprint/core';
import type { MessageSigner } from '@blueprint/core/plugin';
import { settleWithin } from '@blueprint/core/redis';
import {
  CacheEntryCorruptError,
  CacheOptionsError,
  CacheUnavailableError,
  CacheValueTooLargeError,
} from '../../errors.js';
import type { Breaker, BreakerState } from '../../internal/breaker.js';
import type { Pending } from '../../internal/command-timeouts.js';
import { RemoteStore } from '../../internal/remote-store.js';
import type {
  CacheEntry,
  CacheStore,
  EntryReader,
  LockLease,
  StoreSetOptions,
} from '../../transport/store.js';
import type { TieredRawEntry } from '../tiered/l2.js';
import { createClient, isStatusError, isTooLargeError, loadMemjs, type MemjsClient } from './client.js';
import {
  formatEntry,
  ITEM_OVERHEAD_BYTES,
  itemKey,
  memcachedExpiry,
  type ParsedEntry,
  parseEntry,
} from './entry.js';
import { keysWithPrefix, MetadumpError } from './metadump.js';
import { type MemcachedStoreOptions, parseMemcachedOptions } from './options.js';
import { HashRing } from './ring.js';

/** Why a memcached server cannot be used now (`details.reason` of `CACHE_STORE_UNAVAILABLE`). */
export type MemcachedUnavailableReason = 'timeout' | 'offline' | 'breaker-open' | 'error';

/** The most tags an entry may have: each costs a generation read on every read of the entry. */
export const MAX_TAGS = 64;

/** The message of an entry the codec cannot decode. */
const undecodable = (key: string): string =>
  `the memcached entry of "${key}" cannot be decoded (not written by @blueprint/cache, or altered); it is treated as a miss`;

/** What a memcached store is given in code only, besides its schema's options. */
export interface MemcachedSignerOption {
  /**
   * Signs every entry the store writes and refuses what it reads without a valid signature (a miss,
   * `CACHE_ENTRY_CORRUPT` with reason `signature`). The cache plugin passes `messageSigner(topology,
   * "cache")` when the topology authenticates calls. Default: nothing signed or checked.
   */
  readonly signer?: MessageSigner | undefined;
}

/** How many deletes `clear()` keeps in flight per server. */
const CLEAR_CONCURRENCY = 64;

/** One memcached server: its connection and its breaker. */
interface Node {
  readonly address: string;
  readonly breaker: Breaker;
  client: MemjsClient | undefined;
  lastError: string | undefined;
}

/** The `memcached` store. Create it with `memcachedStore(options)`. */
export class MemcachedStore extends RemoteStore implements CacheStore {
  /** Always `memcached`. */
  readonly type = 'memcached';
  /** The servers, as given. */
  readonly servers: readonly string[];
  /** The readiness check's name in an app. */
  readonly healthCheckName = 'memcached:cache';
  /** Connection settings (ms, bytes). */
  readonly settings: {
    readonly commandTimeout: number;
    readonly connectTimeout: number;
    readonly maxItemSize: number;
  };
  private readonly ring: HashRing;
  private readonly nodes: readonly Node[];
  private connected = false;

  /** Checks `options` with `memcachedStoreSchema`; throws `CACHE_OPTIONS_INVALID` naming a bad one. */
  constructor(options: MemcachedStoreOptions & MemcachedSignerOption) {
    const { signer, ...rest } = options;
    const parsed = parseMemcachedOptions(rest, 'memcachedStore(options)');
    super({ ...parsed, signer }, 'memcached', undecodable);
    this.servers = parsed.servers;
    this.settings = {
      commandTimeout: parsed.commandTimeout,
      connectTimeout: parsed.connectTimeout,
      maxItemSize: parsed.maxItemSize,
    };
    this.ring = new HashRing(parsed.servers);
    this.nodes = parsed.servers.map((address) => ({
      address,
      client: undefined,
      lastError: undefined,
      breaker: this.watchedBreaker(parsed.breaker),
    }));
  }

  /**
   * The breaker state of the worst server: `open` when any server's breaker is open, `half-open` when
   * one is probing, else `closed`.
   */
  get breakerState(): BreakerState {
    let worst: BreakerState = 'closed';
    for (const node of this.nodes) {
      if (node.breaker.state === 'open') return 'open';
      if (node.breaker.state === 'half-open') worst = 'half-open';
    }
    return worst;
  }

  /** The breaker state of one server (`host:port`, as given in `servers`). */
  breakerStateOf(server: string): BreakerState | undefined {
    return this.nodes.find((node) => node.address === server)?.breaker.state;
  }

  /** The server (`host:port`) that holds the entry of `key`. */
  serverFor(key: string): string {
    return this.ring.serverFor(this.entryKey(key));
  }

  protected override async open(): Promise<void> {
    const memjs = await loadMemjs();
    const backstop = Math.max(4 * this.settings.commandTimeout, 500);
    for (const node of this.nodes) {
      node.client = createClient(memjs, node.address, backstop, this.settings.connectTimeout);
    }
    this.connected = true;
    // Opens each connection now, so the first call does not pay for it; a server that is down is no error.
    const probe = itemKey(this.prefix, 'probe');
    await settleWithin(
      Promise.all(
        this.nodes.map((node) => new Promise<void>((resolve) => node.client!.get(probe, () => resolve()))),
      ),
      this.settings.connectTimeout,
    );
  }

  get(key: string): Promise<CacheEntry | undefined> {
    const name = this.entryKey(key);
    // The entry is read in the step of the reply, so a hit costs one promise, not one per stage.
    return this.commandOn(
      this.nodeOf(name),
      (client, done) => client.get(name, done),
      (bytes: Buffer | null) => this.entryIn(key, name, bytes),
    );
  }

  read<R>(key: string, reader: EntryReader<R>): Promise<R> {
    const name = this.entryKey(key);
    return this.commandOn(
      this.nodeOf(name),
      (client, done) => client.get(name, done),
      (bytes: Buffer | null) => {
        let entry: CacheEntry | undefined | Promise<CacheEntry | undefined>;
        try {
          entry = this.entryIn(key, name, bytes);
        } catch (error) {
          return reader.failed(error);
        }
        if (!(entry instanceof Promise)) return reader.found(entry);
        return entry.then(
          (held) => reader.found(held),
          (error: unknown) => reader.failed(error),
        );
      },
      (error) => reader.failed(error),
    );
  }

  /** The decoded entry in an item's bytes (see {@link readEntry}). */
  private entryIn(
    key: string,
    name: string,
    bytes: Buffer | null,
  ): CacheEntry | undefined | Promise<CacheEntry | undefined> {
    const raw = this.readEntry(key, name, bytes);
    if (raw === undefined) return undefined;
    if (raw instanceof Promise)
      return raw.then((held) => (held === undefined ? undefined : this.toEntry(key, held)));
    return this.toEntry(key, raw);
  }

  /** Reads an entry without decoding its value, with its tags (the tiered store's L2 read). @internal */
  getRaw(key: string): Promise<TieredRawEntry | undefined> {
    const name = this.entryKey(key);
    return this.command<Buffer | null>(name, (client, done) => client.get(name, done)).then((bytes) =>
      this.readEntry(key, name, bytes),
    );
  }

  private toEntry(key: string, raw: TieredRawEntry): CacheEntry {
    return { value: this.decoded.decode(key, raw.encoded, this), freshUntil: raw.freshUntil };
  }

  /**
   * The entry in an item's bytes: `undefined` when absent or expired, a promise when its tags' generations
   * must be checked first; a `CACHE_ENTRY_CORRUPT` error when the item is not an entry of this store.
   */
  private readEntry(
    key: string,
    name: string,
    bytes: Buffer | null,
  ): TieredRawEntry | Promise<TieredRawEntry | undefined> | undefined {
    if (bytes === null) return undefined;
    const text = bytes.toString('utf8');
    const entry = parseEntry(this.signer === undefined ? text : this.verified(key, name, text));
    if (entry === undefined || entry.freshUntil > entry.expiresAt || entry.tags.length > MAX_TAGS) {
      throw new CacheEntryCorruptError(
        `the memcached entry of "${key}" was not written by @blueprint/cache (or by another version); it is treated as a miss`,
        { details: { key } },
      );
    }
    if (entry.expiresAt <= Date.now()) return undefined;
    const { freshUntil, expiresAt, encoded } = entry;
    if (entry.tags.length === 0) return { freshUntil, expiresAt, encoded };
    return this.generationsHold(entry).then((hold) =>
      hold ? { freshUntil, expiresAt, encoded, tags: entry.tags.map(([tag]) => tag) } : undefined,
    );
  }

  /**
   * Stores an encoded value. Rejects with `CACHE_VALUE_TOO_LARGE` (after removing the key's older entry)
   * when the entry is over `maxItemSize`. @internal
   */
  override async setEncoded(key: string, encoded: string, options: StoreSetOptions): Promise<void> {
    const now = Date.now();
    if (options.expiresAt <= now) return this.delete([key]);
    const name = this.entryKey(key);
    const tags = options.tags ?? [];
    if (tags.length > MAX_TAGS) {
      // The older entry goes too, so it cannot be read as if this write had not happened.
      await this.delete([key]).catch(() => undefined);
      throw new CacheOptionsError(
        `"${key}" has ${tags.length} tags; the memcached store takes at most ${MAX_TAGS} per entry (each costs a read on every read of the entry)`,
        { details: { key, tags: tags.length, limit: MAX_TAGS } },
      );
    }
    const generations = tags.length === 0 ? [] : await this.currentGenerations(tags);
    const entry = formatEntry(options.freshUntil, options.expiresAt, generations, encoded);
    const text = this.signed(entry, name);
    const bytes = Buffer.byteLength(name) + Buffer.byteLength(text) + ITEM_OVERHEAD_BYTES;
    if (bytes > this.settings.maxItemSize) return this.refuseTooLarge(key, bytes);
    const expires = memcachedExpiry(options.expiresAt, now);
    try {
      await this.command(name, (client, done) => client.set(name, text, { expires }, done));
    } catch (error) {
      if (isTooLarge(error)) return this.refuseTooLarge(key, bytes);
      throw error;
    }
  }

  private async refuseTooLarge(key: string, bytes: number): Promise<never> {
    await this.delete([key]).catch(() => undefined);
    const limit = this.settings.maxItemSize;
    throw new CacheValueTooLargeError(
      `the value of "${key}" takes ${bytes} bytes in memcached, over its item size limit of ${limit} bytes; it was not cached (cache less per key, or raise memcached's -I and the store's maxItemSize)`,
      { details: { key, bytes, limit } },
    );
  }

  async delete(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => this.remove(this.entryKey(key))));
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    await Promise.all(tags.map((tag) => this.remove(this.tagKey(tag))));
  }

  /**
   * Removes tagged entries. Memcached cannot list them, so it returns `[]`: the tiered store drops its L1
   * copies by tag instead. @internal
   */
  async invalidateTagsReturningKeys(tags: readonly string[]): Promise<string[]> {
    await this.invalidateTags(tags);
    return [];
  }

  /**
   * Removes every item under the prefix on every server: each server's keys are listed with
   * `lru_crawler metadump` (memcached has no other way to find keys by prefix; `flush_all` would remove
   * other apps' keys too), then deleted.
   */
  async clear(): Promise<void> {
    const timeout = Math.max(5_000, this.settings.connectTimeout);
    await Promise.all(
      this.nodes.map(async (node) => {
        if (!node.breaker.allow()) throw this.refused(node);
        let keys: string[];
        try {
          keys = await keysWithPrefix(node.address, this.prefix, timeout);
        } catch (error) {
          if (error instanceof MetadumpError && error.refused) node.breaker.success();
          else node.breaker.failure();
          throw this.unavailable(
            node,
            error instanceof MetadumpError && error.refused ? 'error' : 'offline',
            error,
          );
        }
        node.breaker.success();
        for (let i = 0; i < keys.length; i += CLEAR_CONCURRENCY) {
          await Promise.all(keys.slice(i, i + CLEAR_CONCURRENCY).map((name) => this.remove(name)));
        }
      }),
    );
  }

  async health(): Promise<HealthCheckResult> {
    const probe = itemKey(this.prefix, 'probe');
    const servers: Record<string, unknown> = {};
    let ok = true;
    await Promise.all(
      this.nodes.map(async (node) => {
        const started = performance.now();
        try {
          await this.commandOn(node, (client, done) => client.get(probe, done));
          servers[node.address] = {
            ok: true,
            breaker: node.breaker.state,
            latencyMs: +(performance.now() - started).toFixed(2),
          };
        } catch (error) {
          ok = false;
          servers[node.address] = {
            ok: false,
            breaker: node.breaker.state,
            reason: (error as { details?: { reason?: unknown } }).details?.reason,
            lastError: node.lastError,
          };
        }
      }),
    );
    return { ok, details: { servers } };
  }

  protected override async disconnect(): Promise<void> {
    this.connected = false;
    for (const node of this.nodes) {
      node.client?.close();
      node.client = undefined;
    }
  }

  private entryKey(key: string): string {
    return itemKey(this.prefix, `k:${key}`);
  }

  private tagKey(tag: string): string {
    return itemKey(this.prefix, `t:${tag}`);
  }

  private async remove(name: string): Promise<void> {
    await this.command(name, (client, done) => client.delete(name, done));
  }

  /** The current generation of each tag, creating those that have none. */
  private currentGenerations(tags: readonly string[]): Promise<(readonly [string, string])[]> {
    return Promise.all(
      [...new Set(tags)].map(async (tag): Promise<readonly [string, string]> => {
        const name = this.tagKey(tag);
        for (let attempt = 0; attempt < 3; attempt++) {
          const current = await this.command<Buffer | null>(name, (client, done) => client.get(name, done));
          if (current !== null) return [tag, current.toString('latin1')];
          const generation = randomBytes(9).toString('base64url');
          const added = await this.command<boolean | null>(name, (client, done) =>
            client.add(name, generation, { expires: 0 }, done),
          );
          if (added === true) return [tag, generation];
        }
        throw this.unavailable(
          this.nodeOf(name),
          'error',
          new Error(`the generation of tag "${tag}" kept changing while it was read`),
        );
      }),
    );
  }

  /** Whether every tag of `entry` still has the generation the entry was written under. */
  private async generationsHold(entry: ParsedEntry): Promise<boolean> {
    const current = await Promise.all(
      entry.tags.map(([tag]) => {
        const name = this.tagKey(tag);
        return this.command<Buffer | null>(name, (client, done) => client.get(name, done));
      }),
    );
    return entry.tags.every(([, generation], i) => current[i]?.toString('latin1') === generation);
  }

  protected override async takeLock(key: string): Promise<LockLease | undefined> {
    const name = itemKey(this.prefix, `l:${key}`);
    const token = randomUUID();
    const expires = Math.max(1, Math.ceil(this.lockTtl! / 1000));
    const taken = await this.command<boolean | null>(name, (client, done) =>
      client.add(name, token, { expires }, done),
    );
    if (taken !== true) return undefined;
    return {
      // Memcached has no compare-and-delete in memjs: read, compare, delete. A holder whose lock expired
      // and was taken by another between the two may delete that one's lock: the lock is advisory.
      release: async () => {
        try {
          const held = await this.command<Buffer | null>(name, (client, done) => client.get(name, done));
          if (held?.toString('latin1') === token) await this.remove(name);
        } catch {
          // The lock expires by itself.
        }
      },
    };
  }

  private nodeOf(name: string): Node {
    return this.nodes[this.ring.indexOf(name)]!;
  }

  /** Runs one command on the server of item `name`. */
  private command<T>(
    name: string,
    run: (client: MemjsClient, done: (error: Error | null, result: T) => void) => void,
  ): Promise<T> {
    return this.commandOn(this.nodeOf(name), run);
  }

  /**
   * Runs one command on `node` through its breaker and the command timeout. A failure to reach the
   * server (or no answer in time) counts against its breaker; an error status from the server does not.
   * The promise resolves with `answer(result)` (the result itself without `answer`), computed in the
   * step of the reply; a failure rejects it, or, with `failed`, resolves it with `failed(error)`.
   */
  private commandOn<T, R = T>(
    node: Node,
    run: (client: MemjsClient, done: (error: Error | null, result: T) => void) => void,
    answer?: (result: T) => R | Promise<R>,
    failed?: (error: unknown) => R | Promise<R>,
  ): Promise<R> {
    const client = node.client;
    if (client === undefined || !this.connected) {
      return refusal(this.unavailable(node, 'offline', new Error('the store is not connected')), failed);
    }
    if (!node.breaker.allow()) return refusal(this.refused(node), failed);
    return new Promise<R>((resolve, reject) => {
      const fail = (error: Error) => {
        if (failed === undefined) reject(error);
        else settle(resolve, reject, failed, error);
      };
      // Tracked once the request is on its way (this runs while the server answers); `undefined` until
      // then, which only a callback memjs calls at once (before sending anything) sees.
      let pending: Pending | undefined;
      let answered = false;
      run(client, (error, result) => {
        if (pending === undefined) answered = true;
        else if (!this.commandTimeouts.done(pending)) return;
        if (error === null) {
          node.breaker.success();
          if (answer === undefined) resolve(result as unknown as R);
          else settle(resolve, reject, answer, result);
          return;
        }
        const failure = error instanceof Error ? error : new Error(String(error));
        if (isStatusError(failure)) {
          node.breaker.success();
          fail(this.unavailable(node, 'error', failure));
          return;
        }
        node.breaker.failure();
        node.lastError = failure.message;
        fail(this.unavailable(node, 'offline', failure));
      });
      if (answered) return;
      pending = this.commandTimeouts.add({
        reject: (error) => {
          node.breaker.failure();
          node.lastError = error.message;
          fail(this.unavailable(node, 'timeout', error));
        },
      });
    });
  }

  private refused(node: Node): Error {
    return this.unavailable(
      node,
      'breaker-open',
      new Error(`memcached at ${node.address} failed repeatedly; waiting before retrying`),
    );
  }

  private unavailable(node: Node, reason: MemcachedUnavailableReason, cause: unknown): Error {
    const what = cause instanceof Error ? cause.message : String(cause);
    return new CacheUnavailableError(
      `memcached cache store unavailable (${reason}) at ${node.address}: ${what}; calls fall through to the loader until it answers again`,
      { cause, details: { store: this.type, server: node.address, reason } },
    );
  }
}

/** A command refused before it was sent: a rejection, or `failed(error)` one step later. */
function refusal<R>(error: Error, failed: ((error: unknown) => R | Promise<R>) | undefined): Promise<R> {
  const rejected = Promise.reject(error);
  return failed === undefined ? rejected : rejected.then(undefined, failed);
}

/** Resolves with `compute(input)`, or rejects with what it throws (a memjs callback must not throw). */
function settle<I, R>(
  resolve: (value: R | Promise<R>) => void,
  reject: (error: unknown) => void,
  compute: (input: I) => R | Promise<R>,
  input: I,
): void {
  try {
    resolve(compute(input));
  } catch (error) {
    reject(error);
  }
}

function isTooLarge(error: unknown): boolean {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error && isTooLargeError(cause);
}
