/**
 * `@Cached` and `@CacheInvalidate`: method decorators that only record options on the class. The
 * cache plugin's link reads them when the app creates the instance (service implementations and
 * providers), so a class used without the plugin is left untouched.
 */
import { type DualMethodDecorator, methodDecorator, parseOptions } from '@blueprint/core/plugin';
import { z } from 'zod';
import { CacheOptionsError } from './errors.js';
import { type CachePolicy, cachePolicySchema } from './policy.js';

/** A function of the decorated method's arguments. */
type OfArguments<T> = (...args: any[]) => T;

const ofArguments = <T>() =>
  z.custom<OfArguments<T>>((value) => typeof value === 'function', { message: 'expected a function' });

const listOrFunction = (what: string) =>
  z.union([z.array(z.string()).readonly(), ofArguments<readonly string[]>()], {
    error: `${what} must be a list of strings or a function of the arguments`,
  });

/** The options of `@Cached`: those of `getOrSet`, with `key` and `tags` that may be functions. */
export const cachedOptionsSchema = cachePolicySchema.extend({
  /**
   * The key: a fixed string, or a function of the method's arguments. Default:
   * `<service or class>:<method>:<stable text of the arguments>` (see `cacheKey`); for contract methods
   * only the input counts, not the call context.
   */
  key: z
    .union([z.string(), ofArguments<string>()], {
      error: 'key must be a string or a function of the arguments',
    })
    .optional(),
  /** Tags of the cached result: a list, or a function of the method's arguments. Default: none. */
  tags: listOrFunction('tags').optional(),
});

/** Options of {@link Cached}. */
export type CachedOptions = z.input<typeof cachedOptionsSchema>;

/** The options of `@CacheInvalidate`. At least one of `keys` and `tags` is required. */
export const cacheInvalidateOptionsSchema = z
  .object({
    /** Keys to delete: a list, or a function of the method's arguments. */
    keys: listOrFunction('keys').optional(),
    /** Tags to invalidate: a list, or a function of the method's arguments. */
    tags: listOrFunction('tags').optional(),
  })
  .refine((options) => options.keys !== undefined || options.tags !== undefined, {
    message: 'give keys or tags, e.g. @CacheInvalidate({ tags: ["products"] })',
  });

/** Options of {@link CacheInvalidate}. */
export type CacheInvalidateOptions = z.input<typeof cacheInvalidateOptionsSchema>;

/** What `@Cached` records. @internal */
export interface CachedMetadata {
  readonly policy: CachePolicy;
  readonly key: CachedOptions['key'];
  readonly tags: CachedOptions['tags'];
}

/** Metadata key of `@Cached`. @internal */
export const CACHED_METADATA = 'cache:cached';
/** Metadata key of `@CacheInvalidate`. @internal */
export const INVALIDATE_METADATA = 'cache:invalidate';

/**
 * Caches the results of an async method. The app's cache plugin applies it to service
 * implementations and providers; the method must return a promise. Options are checked when the class
 * is defined: a bad one throws `CACHE_OPTIONS_INVALID` at once. Works with legacy
 * (`experimentalDecorators`) and standard decorators alike.
 *
 * @example
 * @Cached({ ttl: '5m', tags: ['products'], staleFor: '1h' })
 * async get(input: { id: string }) { return this.db.find(input.id); }
 */
export function Cached(options: CachedOptions): DualMethodDecorator {
  return methodDecorator('@Cached', (site) => {
    const { key, tags, ...policy } = parseOptions(cachedOptionsSchema, options, {
      subject: site.where,
      error: CacheOptionsError,
    });
    const metadata: CachedMetadata = {
      policy: { ...policy, tags: Array.isArray(tags) ? tags : undefined },
      key,
      tags,
    };
    site.record(CACHED_METADATA, metadata);
  });
}

/**
 * After the method succeeds, deletes `keys` and invalidates `tags` (in every process, for a tiered
 * store), then returns the method's result.
 *
 * @example
 * @CacheInvalidate({ tags: ['products'], keys: (input) => [`product:${input.id}`] })
 * async update(input: { id: string; price: number }) { ... }
 */
export function CacheInvalidate(options: CacheInvalidateOptions): DualMethodDecorator {
  return methodDecorator('@CacheInvalidate', (site) => {
    const checked = parseOptions(cacheInvalidateOptionsSchema, options, {
      subject: site.where,
      error: CacheOptionsError,
    });
    site.record(INVALIDATE_METADATA, checked);
  });
}
