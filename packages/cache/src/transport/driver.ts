/**
 * Stores as drivers: each store is a folder `src/stores/<type>/` whose `index.ts` exports a descriptor
 * made with core's `defineDriver({ type, schema, create })` and a standalone factory. The descriptor's
 * zod schema is the single source of the store's options: the topology section, the factory's options
 * type ({@link StoreOptions}), their defaults and checks ({@link parseStoreOptions}).
 */
import { type MessageSigner, parseOptions } from '@blueprint/core/plugin';
import { type AnyDriver, type DriverDescriptor, defineDriver, jsonCodec } from '@blueprint/core/transport';
import type { z } from 'zod';
import { CacheEntryCorruptError, CacheOptionsError, CacheValueError } from '../errors.js';
import type { CacheStore } from './store.js';

/** What the cache plugin passes a store's `create` besides its options. */
export interface CacheStoreContext {
  /** The app's name. */
  readonly appName: string;
  /**
   * The key prefix a store on a shared server uses when its options give none: `"<app name>:cache:"`,
   * so two apps on one Redis never see each other's entries.
   */
  readonly keyPrefix: string;
  /**
   * Signs what the store writes for other processes and checks what it reads, when the topology
   * authenticates calls (`messageSigner(topology, "cache")`); undefined otherwise. A store on a shared
   * server should sign its entries with it, so an entry written by anyone without the secret is a miss.
   */
  readonly signer?: MessageSigner | undefined;
}

/** A cache store descriptor. */
export type CacheStoreDriver<
  Type extends string = string,
  Schema extends z.ZodObject = z.ZodObject,
  Store extends CacheStore = CacheStore,
> = DriverDescriptor<Type, Schema, Store, CacheStoreContext>;

/** Any cache store descriptor, as `cachePlugin({ stores })` takes them. */
export type AnyCacheStoreDriver = AnyDriver<CacheStore, CacheStoreContext>;

/** The options of a store's standalone factory: its schema's input without `type`. */
export type StoreOptions<Schema extends z.ZodObject> = Omit<z.input<Schema>, 'type'>;

/** What a store on a shared server is built from: its parsed options, the prefix and the signer filled in. */
export type SharedStoreOptions<Schema extends z.ZodObject> = z.output<Schema> & {
  readonly prefix: string;
  readonly signer: MessageSigner | undefined;
};

/**
 * The descriptor of a store on a shared server whose class takes its options (`redis`, `tiered`): the
 * key prefix defaults to the app's (`"<app name>:cache:"`), and with auth on the store signs what it
 * writes with the app's signer. The class is loaded by `load()` when a topology selects the store, so an
 * app on the memory store never loads a remote store's code.
 *
 * @example
 * export const redisStoreDriver = sharedStoreDriver('redis', redisStoreSchema, async () =>
 *   (await import('./redis-store.js')).RedisStore);
 */
export function sharedStoreDriver<Type extends string, Schema extends z.ZodObject, Store extends CacheStore>(
  type: Type,
  schema: Schema,
  load: () => Promise<new (options: SharedStoreOptions<Schema>) => Store>,
): CacheStoreDriver<Type, Schema, Store> {
  return defineDriver({
    type,
    schema,
    create: async (options: z.output<Schema>, context: CacheStoreContext) =>
      new (await load())({
        ...options,
        prefix: (options as { prefix?: string | undefined }).prefix ?? context.keyPrefix,
        signer: context.signer,
      }),
  });
}

/**
 * Parses the options a store is given in code with its descriptor's schema: defaults filled in,
 * durations in ms, a `CACHE_OPTIONS_INVALID` error naming each bad option otherwise.
 *
 * @example
 * const options = parseStoreOptions(memcachedStoreSchema, input, 'memcachedStore(options)');
 */
export function parseStoreOptions<Schema extends z.ZodObject>(
  schema: Schema,
  options: object,
  subject: string,
): z.output<Schema> {
  const type = (schema.shape.type as z.ZodLiteral<string>).value;
  return parseOptions(schema, { ...options, type }, { subject, error: CacheOptionsError });
}

/** Encodes a value with core's codec (the one RPC and events use); throws `CACHE_VALUE_INVALID` naming the key when it cannot. */
export function encodeCacheValue(key: string, value: unknown): string {
  try {
    return jsonCodec.encode(value);
  } catch (error) {
    throw new CacheValueError(
      `cannot cache the value of "${key}": ${(error as Error).message}; cache plain data (objects, arrays, Date, bigint, Map, Set) without cycles`,
      { cause: error, details: { key } },
    );
  }
}

/**
 * Decodes a value a store read from its server with core's codec; throws `CACHE_ENTRY_CORRUPT` (the
 * entry is then a miss) with the message `undecodable` gives for the key and the codec's error.
 */
export function decodeCacheValue(
  key: string,
  encoded: string,
  undecodable: (key: string, error: unknown) => string,
): unknown {
  try {
    return jsonCodec.decode(encoded);
  } catch (error) {
    throw new CacheEntryCorruptError(undecodable(key, error), { cause: error, details: { key } });
  }
}
