/**
 * The `redis` store: entries in Redis under a key prefix, with their expiry as a Redis TTL and their
 * tags as Redis sets (invalidation costs one step per entry in the tag). Every command goes through a
 * breaker: when Redis stops answering, a few calls wait up to `commandTimeout`, then the breaker opens
 * and calls fail at once (the cache falls through to the loader) until a probe succeeds.
 *
 * Layout, with `p` the prefix: entry `p` + `k:` + key holds `<freshUntil>,<expiresAt>|<encoded value>`;
 * tag set `p` + `t:` + tag holds keys; lock `p` + `l:` + key holds a token. With a `signer` (auth on), an
 * entry holds `<signature>~<freshUntil>,<expiresAt>|<encoded value>`, the signature covering the entry's
 * Redis key and the rest of its text, so an entry copied to another key is refused too.
 */
import { randomUUID } from 'node:crypto';
import type { BlueprintError, HealthCheckResult } from '@blueprint/core';
import {
  classifyRedisError,
  closeClient,
  connectionOptions,
  LuaScript,
  loadIoRedis,
  type RedisConnectionSettings,
  type RedisUnavailableReason,
  settleWithin,
} from '@blueprint/core/redis';
import type { Command, Redis } from 'ioredis';
import {
  CacheDriverMissingError,
  CacheEntryCorruptError,
  type CacheError,
  CacheUnavailableError,
} from '../../errors.js';
import type { Breaker, BreakerState } from '../../internal/breaker.js';
import { RemoteStore } from '../../internal/remote-store.js';
import type {
  CacheEntry,
  CacheStore,
  EntryReader,
  LockLease,
  StoreSetOptions,
} from '../../transport/store.js';
import { parseRedisOptions, type RedisStoreOptions, redisStoreSchema } from './options.js';

/** An entry as stored in Redis, before decoding. @internal */
export interface RawEntry {
  readonly freshUntil: number;
  readonly expiresAt: number;
  readonly encoded: string;
}

const SET_TAGGED = new LuaScript(`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local px = tonumber(ARGV[2])
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[3])
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl == -1 or (ttl >= 0 and ttl < px) then redis.call('PEXPIRE', KEYS[i], px) end
end
return 1`);

const INVALIDATE_TAGS = new LuaScript(`
local removed = {}
for i = 1, #KEYS do
  local members = redis.call('SMEMBERS', KEYS[i])
  for _, member in ipairs(members) do
    redis.call('DEL', ARGV[1] .. member)
    removed[#removed + 1] = member
  end
  redis.call('DEL', KEYS[i])
end
return removed`);

const RELEASE_LOCK = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

/** The message of an entry the codec cannot decode. */
const undecodable = (key: string, error: unknown): string =>
  `the Redis entry of "${key}" cannot be decoded: ${(error as Error).message}; it is treated as a miss`;

/** The `redis` store. Create it with `redisStore(options)`. */
export class RedisStore extends RemoteStore implements CacheStore {
  /** Always `redis` (the tiered store reports `tiered`). */
  readonly type: string = 'redis';
  /** Connection settings (ms). */
  readonly settings: RedisConnectionSettings;
  /** The readiness check's name in an app. */
  readonly healthCheckName = 'redis:cache';
  private readonly breaker: Breaker;
  private connection: Redis | undefined;
  private CommandClass: typeof Command | undefined;
  private lastError: string | undefined;
  /** The client given in the options, which the store uses but does not close. */
  private readonly given: Redis | undefined;

  /** Checks `options` with {@link redisStoreSchema}; throws `CACHE_OPTIONS_INVALID` naming a bad one. */
  constructor(options: RedisStoreOptions) {
    const parsed = parseRedisOptions(redisStoreSchema, options, 'redisStore(options)');
    super({ ...parsed, signer: options.signer }, 'Redis', undecodable);
    this.given = options.client;
    this.settings = {
      url: parsed.url ?? '',
      commandTimeout: parsed.commandTimeout,
      connectTimeout: parsed.connectTimeout,
      maxRetriesPerRequest: parsed.maxRetriesPerRequest,
    };
    this.breaker = this.watchedBreaker(parsed.breaker);
  }

  /** The ioredis client once connected (for admin commands; do not change its options). */
  get client(): Redis | undefined {
    return this.connection;
  }

  /** The breaker's state: `closed` (normal), `open` (failing fast) or `half-open` (probing). */
  get breakerState(): BreakerState {
    return this.breaker.state;
  }

  protected override async open(): Promise<void> {
    const ioredis = await this.loadClient();
    this.CommandClass = ioredis.Command;
    if (this.given !== undefined) {
      this.connection = this.given;
      return;
    }
    const client = new ioredis.Redis(this.settings.url, connectionOptions(this.settings));
    client.on('error', (error: Error) => {
      this.lastError = error.message;
    });
    this.connection = client;
    await settleWithin(client.connect(), this.settings.connectTimeout);
  }

  /**
   * Opens one more connection with the same settings, whose commands ioredis times itself (the tiered
   * store's subscriber). @internal
   */
  async duplicate(): Promise<Redis> {
    await this.connect();
    const client = this.connection!;
    if (this.given !== undefined) return client.duplicate();
    const { Redis: RedisClient } = await this.loadClient();
    return new RedisClient(this.settings.url, connectionOptions(this.settings, true));
  }

  private loadClient() {
    return loadIoRedis(`the "${this.type}" cache store`, CacheDriverMissingError);
  }

  get(key: string): Promise<CacheEntry | undefined> {
    return this.getText(key, (text) => this.entryOf(key, text));
  }

  read<R>(key: string, reader: EntryReader<R>): Promise<R> {
    return this.getText(
      key,
      (text) => {
        let entry: CacheEntry | undefined;
        try {
          entry = this.entryOf(key, text);
        } catch (error) {
          return reader.failed(error);
        }
        return reader.found(entry);
      },
      (error) => reader.failed(error),
    );
  }

  /** The entry in the text of a `GET` reply; `CACHE_ENTRY_CORRUPT` when it is not one of this store's. */
  private entryOf(key: string, text: string | null): CacheEntry | undefined {
    if (text === null) return undefined;
    const raw = this.parse(key, text);
    return { value: this.decoded.decode(key, raw.encoded, this), freshUntil: raw.freshUntil };
  }

  /** Reads an entry without decoding its value. @internal */
  getRaw(key: string): Promise<RawEntry | undefined> {
    return this.getText(key, (text) => (text === null ? undefined : this.parse(key, text)));
  }

  private parse(key: string, signedText: string): RawEntry {
    const text = this.signer === undefined ? signedText : this.verified(key, this.entryKey(key), signedText);
    const bar = text.indexOf('|');
    const comma = text.indexOf(',');
    const freshUntil = Number(text.slice(0, comma));
    const expiresAt = Number(text.slice(comma + 1, bar));
    if (bar < 0 || comma < 0 || comma > bar || Number.isNaN(freshUntil) || Number.isNaN(expiresAt)) {
      throw new CacheEntryCorruptError(
        `the Redis entry of "${key}" was not written by @blueprint/cache (or by another version); delete it or use another prefix`,
        { details: { key } },
      );
    }
    return { freshUntil, expiresAt, encoded: text.slice(bar + 1) };
  }

  /** Stores an encoded value. @internal */
  override async setEncoded(key: string, encoded: string, options: StoreSetOptions): Promise<void> {
    const ttl = Math.ceil(options.expiresAt - Date.now());
    if (ttl <= 0) return this.delete([key]);
    const text = `${options.freshUntil},${options.expiresAt}|${encoded}`;
    const payload = this.signed(text, this.entryKey(key));
    const tags = options.tags;
    if (tags === undefined || tags.length === 0) {
      await this.command((client) => client.set(this.entryKey(key), payload, 'PX', ttl));
      return;
    }
    const keys = [this.entryKey(key), ...tags.map((tag) => this.tagKey(tag))];
    await this.command((client) => SET_TAGGED.run(client, keys, [payload, ttl, key]));
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.command((client) => client.del(...keys.map((key) => this.entryKey(key))));
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    await this.invalidateTagsReturningKeys(tags);
  }

  /** Removes tagged entries and returns their keys. @internal */
  async invalidateTagsReturningKeys(tags: readonly string[]): Promise<string[]> {
    if (tags.length === 0) return [];
    const removed = await this.command((client) =>
      INVALIDATE_TAGS.run(
        client,
        tags.map((tag) => this.tagKey(tag)),
        [`${this.prefix}k:`],
      ),
    );
    return removed as string[];
  }

  async clear(): Promise<void> {
    const pattern = `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.command((client) =>
        client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000),
      );
      cursor = next;
      if (keys.length > 0) await this.command((client) => client.unlink(...keys));
    } while (cursor !== '0');
  }

  protected override async takeLock(key: string): Promise<LockLease | undefined> {
    const lockKey = `${this.prefix}l:${key}`;
    const token = randomUUID();
    const taken = await this.command((client) => client.set(lockKey, token, 'PX', this.lockTtl!, 'NX'));
    if (taken !== 'OK') return undefined;
    return {
      release: () =>
        this.command((client) => RELEASE_LOCK.run(client, [lockKey], [token])).then(
          () => undefined,
          () => undefined,
        ),
    };
  }

  /** Publishes on a pub/sub channel through the breaker. @internal */
  async publish(channel: string, message: string): Promise<void> {
    await this.command((client) => client.publish(channel, message));
  }

  async health(): Promise<HealthCheckResult> {
    const started = performance.now();
    const status = this.connection?.status ?? 'not connected';
    try {
      await this.command((client) => client.ping());
      return {
        ok: true,
        details: {
          status,
          breaker: this.breaker.state,
          latencyMs: +(performance.now() - started).toFixed(2),
        },
      };
    } catch (error) {
      return {
        ok: false,
        details: {
          status,
          breaker: this.breaker.state,
          reason: (error as CacheError).details ?? undefined,
          lastError: this.lastError,
        },
      };
    }
  }

  protected override async disconnect(): Promise<void> {
    const client = this.connection;
    this.connection = undefined;
    if (client !== undefined && this.given === undefined) await closeClient(client);
  }

  private entryKey(key: string): string {
    return `${this.prefix}k:${key}`;
  }

  private tagKey(tag: string): string {
    return `${this.prefix}t:${tag}`;
  }

  /**
   * `GET` of an entry, the hot path: the same checks as {@link command}, with the ioredis command's own
   * promise (its timeout rejects the command) instead of a second promise around it. It resolves with
   * `read(text)`; a failure (mapped to `CACHE_STORE_UNAVAILABLE`) rejects it, or, with `failed`,
   * resolves it with `failed(error)`.
   */
  private getText<T>(
    key: string,
    read: (text: string | null) => T | Promise<T>,
    failed?: (error: unknown) => T | Promise<T>,
  ): Promise<T> {
    const client = this.connection;
    const CommandClass = this.CommandClass;
    if (client === undefined || CommandClass === undefined) {
      return this.command((c) => c.get(this.entryKey(key))).then(read, failed);
    }
    if (!this.breaker.allow()) return this.refuse().then(undefined, failed);
    const command = new CommandClass('get', [this.entryKey(key)], { replyEncoding: 'utf8' });
    client.sendCommand(command);
    // Tracked once the request is on its way: this runs while Redis answers, not before it can.
    const pending = this.commandTimeouts.add(command);
    return (command.promise as Promise<string | null>).then(
      (text) => {
        this.commandTimeouts.done(pending);
        this.breaker.success();
        return read(text);
      },
      (error: unknown) => {
        this.commandTimeouts.done(pending);
        const failure = this.failed(error);
        if (failed === undefined) throw failure;
        return failed(failure);
      },
    );
  }

  /**
   * Runs one Redis command through the breaker and the command timeout, mapping failures to
   * `CACHE_STORE_UNAVAILABLE`.
   */
  private command<T>(run: (client: Redis) => Promise<T>): Promise<T> {
    const client = this.connection;
    if (client === undefined)
      return Promise.reject(this.unavailable('offline', 'the store is not connected'));
    if (!this.breaker.allow()) return this.refuse();
    return new Promise<T>((resolve, reject) => {
      const pending = this.commandTimeouts.add({
        reject: (error) => {
          this.breaker.failure();
          reject(this.unavailable('timeout', error.message, error));
        },
      });
      run(client).then(
        (result) => {
          if (!this.commandTimeouts.done(pending)) return;
          this.breaker.success();
          resolve(result);
        },
        (error: unknown) => {
          if (!this.commandTimeouts.done(pending)) return;
          reject(this.failed(error));
        },
      );
    });
  }

  /** A command the open breaker does not let through. */
  private refuse(): Promise<never> {
    return Promise.reject(
      this.unavailable('breaker-open', 'Redis failed repeatedly; waiting before retrying'),
    );
  }

  /** Records a failed command in the breaker (unless Redis answered with a plain error) and maps it. */
  private failed(error: unknown): BlueprintError {
    const { reason, unhealthy } = classifyRedisError(error);
    if (unhealthy) this.breaker.failure();
    else this.breaker.success();
    return this.unavailable(reason, (error as Error)?.message ?? String(error), error);
  }

  private unavailable(reason: RedisUnavailableReason, what: string, cause?: unknown): BlueprintError {
    return new CacheUnavailableError(
      `Redis cache store unavailable (${reason}): ${what}; calls fall through to the loader until Redis answers again`,
      { cause, details: { store: this.type, reason } },
    );
  }
}
