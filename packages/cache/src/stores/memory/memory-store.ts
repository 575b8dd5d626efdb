/**
 * The `memory` store: an LRU map in this process, bounded by entry count and optionally by bytes.
 * Expiry is checked when an entry is read (and when the oldest entry is looked at on a write), so
 * there is no timer per key. Values are encoded once on write (the check that they survive the codec,
 * and their size) and kept as one private decoded copy; each reader gets its own copy.
 */
import { byteSizeSchema } from '@blueprint/core/plugin';
import { jsonCodec } from '@blueprint/core/transport';
import { z } from 'zod';
import { type Copier, cloneValue, copierFor } from '../../internal/clone.js';
import { positiveCountSchema } from '../../internal/schemas.js';
import { encodeCacheValue, parseStoreOptions, type StoreOptions } from '../../transport/driver.js';
import type { CacheEntry, CacheStore, StoreSetOptions } from '../../transport/store.js';

/** How many entries and bytes a memory tier keeps: the `memory` store's options, and a tiered store's `l1`. */
export const memoryBoundsShape = {
  /** Most entries kept; the least recently used entry is evicted first. Default: 10000. */
  maxEntries: positiveCountSchema.optional().default(10_000),
  /**
   * Most bytes kept, approximated as the length of each encoded value plus its key plus 64. Entries
   * larger than this are not kept. Default: no byte bound.
   */
  maxBytes: byteSizeSchema.optional(),
};

/**
 * Options of the `memory` store: the topology section `{ "type": "memory", ... }`, and
 * `memoryStore(options)` without `type`.
 */
export const memoryStoreSchema = z.strictObject({ type: z.literal('memory'), ...memoryBoundsShape });

/** Options of `memoryStore(options)`. */
export type MemoryStoreOptions = StoreOptions<typeof memoryStoreSchema>;

/** What {@link MemoryStore.hit} returns when there is no fresh value. @internal */
export const MISS: unique symbol = Symbol('cache miss');

interface Node {
  key: string;
  value: unknown;
  copy: Copier;
  freshUntil: number;
  expiresAt: number;
  size: number;
  tags: readonly string[] | undefined;
  newer: Node | undefined;
  older: Node | undefined;
}

/** Approximate bookkeeping bytes per entry, added to its encoded size. */
const ENTRY_OVERHEAD = 64;
/** Values encoded larger than this are copied generically instead of by a planned copier. */
const PLANNED_COPY_LIMIT = 1024 * 1024;
const keep: Copier = (value) => value;

/** The `memory` store. Create it with `memoryStore(options)`. */
export class MemoryStore implements CacheStore {
  /** Always `memory`. */
  readonly type = 'memory';
  /** Most entries kept. */
  readonly maxEntries: number;
  /** Most bytes kept (`Infinity` when unbounded). */
  readonly maxBytes: number;
  private readonly nodes = new Map<string, Node>();
  private readonly tagIndex = new Map<string, Set<string>>();
  private newest: Node | undefined;
  private oldest: Node | undefined;
  private totalBytes = 0;

  /** Checks `options` with {@link memoryStoreSchema}; throws `CACHE_OPTIONS_INVALID` naming a bad one. */
  constructor(options: MemoryStoreOptions = {}) {
    const { maxEntries, maxBytes } = parseStoreOptions(memoryStoreSchema, options, 'memoryStore(options)');
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes ?? Infinity;
  }

  /** Entries held now (expired ones not yet looked at included). */
  get size(): number {
    return this.nodes.size;
  }

  /** Approximate bytes held now. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** True when an unexpired entry is held under `key` (does not count as a use). */
  has(key: string): boolean {
    const node = this.nodes.get(key);
    return node !== undefined && node.expiresAt > Date.now();
  }

  async connect(): Promise<void> {}

  get(key: string): CacheEntry | undefined {
    const node = this.nodes.get(key);
    if (node === undefined) return undefined;
    if (node.expiresAt <= Date.now()) {
      this.remove(node);
      return undefined;
    }
    if (node !== this.newest) this.touch(node);
    return { value: node.copy(node.value), freshUntil: node.freshUntil };
  }

  /**
   * The fast path of a read: a copy of the value under `key` when it is fresh, else {@link MISS}
   * (absent, stale or expired). @internal
   */
  hit(key: string): unknown {
    const node = this.nodes.get(key);
    if (node === undefined || node.freshUntil <= Date.now()) return MISS;
    if (node !== this.newest) this.touch(node);
    return node.copy(node.value);
  }

  async set(key: string, value: unknown, options: StoreSetOptions): Promise<void> {
    const encoded = encodeCacheValue(key, value);
    const master = typeof value === 'object' && value !== null ? jsonCodec.decode(encoded) : value;
    this.setDecoded(key, master, encoded.length, options);
  }

  /**
   * Stores an already decoded private copy (the tiered store's L1 uses it for values read from Redis).
   * @internal
   */
  setDecoded(key: string, master: unknown, encodedLength: number, options: StoreSetOptions): void {
    const size = encodedLength + key.length + ENTRY_OVERHEAD;
    const existing = this.nodes.get(key);
    if (existing !== undefined) this.remove(existing);
    if (options.expiresAt <= Date.now() || size > this.maxBytes) return;
    const tags = options.tags !== undefined && options.tags.length > 0 ? [...options.tags] : undefined;
    const copy =
      typeof master !== 'object' || master === null
        ? keep
        : encodedLength > PLANNED_COPY_LIMIT
          ? cloneValue
          : copierFor(master);
    const node: Node = {
      key,
      value: master,
      copy,
      freshUntil: options.freshUntil,
      expiresAt: options.expiresAt,
      size,
      tags,
      newer: undefined,
      older: this.newest,
    };
    if (this.newest !== undefined) this.newest.newer = node;
    this.newest = node;
    this.oldest ??= node;
    this.nodes.set(key, node);
    this.totalBytes += size;
    if (tags !== undefined) {
      for (const tag of tags) {
        let keys = this.tagIndex.get(tag);
        if (keys === undefined) {
          keys = new Set();
          this.tagIndex.set(tag, keys);
        }
        keys.add(key);
      }
    }
    this.evict();
  }

  async delete(keys: readonly string[]): Promise<void> {
    this.deleteNow(keys);
  }

  /** Synchronous `delete`. @internal */
  deleteNow(keys: readonly string[]): void {
    for (const key of keys) {
      const node = this.nodes.get(key);
      if (node !== undefined) this.remove(node);
    }
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    this.invalidateTagsNow(tags);
  }

  /** Synchronous `invalidateTags`. @internal */
  invalidateTagsNow(tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.tagIndex.get(tag);
      if (keys === undefined) continue;
      this.deleteNow([...keys]);
      this.tagIndex.delete(tag);
    }
  }

  async clear(): Promise<void> {
    this.clearNow();
  }

  /** Synchronous `clear`. @internal */
  clearNow(): void {
    this.nodes.clear();
    this.tagIndex.clear();
    this.newest = undefined;
    this.oldest = undefined;
    this.totalBytes = 0;
  }

  async close(): Promise<void> {
    this.clearNow();
  }

  private evict(): void {
    const now = Date.now();
    while (this.oldest !== undefined && this.oldest.expiresAt <= now) this.remove(this.oldest);
    while (
      this.oldest !== undefined &&
      (this.nodes.size > this.maxEntries || this.totalBytes > this.maxBytes)
    ) {
      this.remove(this.oldest);
    }
  }

  private touch(node: Node): void {
    this.unlink(node);
    node.older = this.newest;
    node.newer = undefined;
    if (this.newest !== undefined) this.newest.newer = node;
    this.newest = node;
    this.oldest ??= node;
  }

  private unlink(node: Node): void {
    if (node.newer !== undefined) node.newer.older = node.older;
    else this.newest = node.older;
    if (node.older !== undefined) node.older.newer = node.newer;
    else this.oldest = node.newer;
    node.newer = undefined;
    node.older = undefined;
  }

  private remove(node: Node): void {
    this.unlink(node);
    this.nodes.delete(node.key);
    this.totalBytes -= node.size;
    if (node.tags !== undefined) {
      for (const tag of node.tags) {
        const keys = this.tagIndex.get(tag);
        if (keys === undefined) continue;
        keys.delete(node.key);
        if (keys.size === 0) this.tagIndex.delete(tag);
      }
    }
  }
}
