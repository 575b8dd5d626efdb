/**
 * Builds a `memcached` store from parsed options: a plain store, or with `l1` a tiered store over
 * memcached.
 */
import type { MessageSigner } from '@blueprint/core/plugin';
import type { TieredStore } from '../tiered/tiered-store.js';
import { MemcachedStore } from './memcached-store.js';
import type { ParsedMemcachedOptions } from './options.js';
import { type MemcachedTier, memcachedTieredStore } from './tiered.js';

/** A `memcached` store, or a tiered store over memcached when `parsed.l1` is set; nothing connects yet. */
export function buildMemcachedStore(
  parsed: ParsedMemcachedOptions,
  signer: MessageSigner | undefined,
): MemcachedStore | TieredStore<MemcachedTier> {
  return parsed.l1 === undefined
    ? new MemcachedStore({ ...parsed, signer })
    : memcachedTieredStore(parsed, signer);
}
