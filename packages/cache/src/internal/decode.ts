/**
 * Decoding of stored values on the Redis read path. It is core's codec, with one shortcut: text that
 * carries no codec tag and cannot spell a `__proto__` or `constructor` key (no such word, no `\u`
 * escape) decodes to exactly what `JSON.parse` returns, so it skips the safe parser's scans. Anything
 * else goes through `jsonCodec.decode`.
 */
import { jsonCodec } from '@blueprint/core';

/** Decodes text written by `jsonCodec.encode`, with the codec's result and refusals. */
export function decodeStored(text: string): unknown {
  if (
    text.includes('"$bp"') ||
    text.includes('\\u') ||
    text.includes('__proto__') ||
    text.includes('constructor')
  ) {
    return jsonCodec.decode(text);
  }
  try {
    return JSON.parse(text);
  } catch {
    return jsonCodec.decode(text);
  }
}
