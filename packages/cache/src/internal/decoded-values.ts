/**
 * The values a remote store (redis, memcached) decoded last, by key. A hit on a hot key reads the same
 * encoded text again and again; decoding it each time (the codec's safety scans, `JSON.parse`, reviving
 * tagged values) is most of what a hit costs in this process. When the text just read is exactly the
 * text read last time for that key, and was read at least twice, the reader gets its own copy of the
 * value decoded then, made by a copier planned for its shape (as the memory store does for every
 * read); when it differs in any character, it is decoded and its text remembered instead (a text read
 * only once costs a Map entry, no copy).
 *
 * Nothing about the entry is trusted from memory: the server is still asked on every read, and the
 * header, signature, expiry and tag checks still run on what it returned; only the decode of a text
 * already decoded is skipped. The codec is deterministic, so a copy of the earlier result is what the
 * decode would return (the private value is never handed out, so no caller can change it).
 */
import { type Copier, copierFor } from './clone.js';

/** Most keys remembered per store. */
export const REMEMBERED_KEYS = 1_000;
/** Longest encoded text remembered (longer ones are decoded on every read). */
export const REMEMBERED_TEXT_LENGTH = 16 * 1024;
/** Most characters of encoded text remembered per store, in all. */
export const REMEMBERED_CHARACTERS = 2 * 1024 * 1024;

interface Remembered {
  readonly encoded: string;
  /**
   * The private decoded value (only copies of it leave) and its copier, from the second read of the
   * text on; `copy` is `undefined` after the first read, which remembers only the text, so a text read
   * once costs no copy and no copier.
   */
  readonly value: unknown;
  readonly copy: Copier | undefined;
}

const keep: Copier = (value) => value;

/** What decodes a store's text: the store itself (`decode` wraps codec errors as `CACHE_ENTRY_CORRUPT`). */
export interface Decoder {
  decode(key: string, encoded: string): unknown;
}

/** See the module doc. */
export class DecodedValues {
  private readonly entries = new Map<string, Remembered>();
  private characters = 0;

  /**
   * The value of `encoded`, the text read under `key`: a copy of the value remembered for `key` when its
   * text is the same, else `decoder.decode(key, encoded)` (which may throw; nothing is remembered then).
   */
  decode(key: string, encoded: string, decoder: Decoder): unknown {
    const held = this.entries.get(key);
    if (held !== undefined && held.encoded === encoded) {
      if (held.copy !== undefined) return held.copy(held.value);
      // Read a second time: worth a copier; the caller gets the decoded value, the memo a copy of it.
      const value = decoder.decode(key, encoded);
      const copy = typeof value !== 'object' || value === null ? keep : copierFor(value);
      this.entries.set(key, { encoded, value: copy(value), copy });
      return value;
    }
    const value = decoder.decode(key, encoded);
    if (held !== undefined) this.forget(key, held);
    if (encoded.length <= REMEMBERED_TEXT_LENGTH) this.remember(key, encoded);
    return value;
  }

  /** Forgets everything (the store closed). */
  clear(): void {
    this.entries.clear();
    this.characters = 0;
  }

  private remember(key: string, encoded: string): void {
    this.entries.set(key, { encoded, value: undefined, copy: undefined });
    this.characters += encoded.length;
    for (const [oldest, held] of this.entries) {
      if (this.entries.size <= REMEMBERED_KEYS && this.characters <= REMEMBERED_CHARACTERS) break;
      this.forget(oldest, held);
    }
  }

  private forget(key: string, held: Remembered): void {
    this.entries.delete(key);
    this.characters -= held.encoded.length;
  }
}
