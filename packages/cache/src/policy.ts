/**
 * How long a value is cached, and how it is refreshed: the options of `Cache.set`, `Cache.getOrSet` and
 * `@Cached`, as one zod schema (their types, defaults and checks).
 */
import { durationSchema, parseOptions } from '@blueprint/core/plugin';
import { z } from 'zod';
import { CacheOptionsError } from './errors.js';

const ttlSchema = z
  .union([z.number(), z.string()], {
    error: (issue) => (issue.input === undefined ? 'a ttl is required, e.g. { ttl: "5m" }' : undefined),
  })
  .pipe(durationSchema)
  .refine((ms) => ms > 0, { message: 'use more than 0' });

/** The options of `Cache.getOrSet` (and, but for `refreshTimeout` and `lock`, of `set`). */
export const cachePolicySchema = z.object({
  /** How long the value is fresh: ms or `"30s"`, `"5m"`. Required; more than 0. */
  ttl: ttlSchema,
  /**
   * How long past `ttl` the value is kept to be served when a refresh fails or is slow
   * (stale-while-revalidate). Default: 0 (never served stale).
   */
  staleFor: durationSchema.optional().default(0),
  /** Tags that `invalidateTags` removes the entry by. Default: none. */
  tags: z
    .array(z.string(), { error: 'tags must be an array of strings, e.g. ["products"]' })
    .readonly()
    .optional(),
  /**
   * With a stale value at hand, how long a caller waits for the refresh before it gets the stale value
   * (the refresh goes on in the background). Default: 0 (answer at once with the stale value).
   */
  refreshTimeout: durationSchema.optional().default(0),
  /**
   * Take the store's cross-process lock before loading (stores configured with `lock`), so one
   * process loads a key at a time. Default: true when the store has a lock.
   */
  lock: z.boolean().optional().default(true),
});

/** Options of `Cache.getOrSet`. */
export type GetOrSetOptions = z.input<typeof cachePolicySchema>;

/** Options of `Cache.set`. */
export type CacheSetOptions = Pick<GetOrSetOptions, 'ttl' | 'staleFor' | 'tags'>;

/** Parsed options of a read-through call (durations in ms). @internal */
export type CachePolicy = z.output<typeof cachePolicySchema>;

/** Parses read-through options; throws `CACHE_OPTIONS_INVALID` naming each bad option. @internal */
export function toPolicy(options: GetOrSetOptions, subject: string): CachePolicy {
  return parseOptions(cachePolicySchema, options, { subject, error: CacheOptionsError });
}
