/**
 * Signed texts of the stores on shared servers: `<signature>~<text>`, the signature (base64url
 * HMAC-SHA256 of the topology's auth secret) covering `<scope>\n<text>`, where the scope is what the
 * text is stored under (an entry's server key), or the text alone without one (an invalidation message).
 */
import type { MessageSigner } from '@blueprint/core/plugin';
import { CacheEntryCorruptError } from '../errors.js';

/** Length of a signature (base64url HMAC-SHA256) at the start of a signed text. */
const SIGNATURE_LENGTH = 43;

/** `text` signed: `<signature>~<text>`, the signature covering `<scope>\n<text>`, or `text` without a scope. */
export function signText(signer: MessageSigner, text: string, scope?: string): string {
  return `${signer.sign(scope === undefined ? text : `${scope}\n${text}`)}~${text}`;
}

/** The text after the signature of a signed text; undefined when the signature is missing or wrong. */
export function verifiedText(signer: MessageSigner, signedText: string, scope?: string): string | undefined {
  if (signedText[SIGNATURE_LENGTH] !== '~') return undefined;
  const text = signedText.slice(SIGNATURE_LENGTH + 1);
  const signature = signedText.slice(0, SIGNATURE_LENGTH);
  return signer.verify(scope === undefined ? text : `${scope}\n${text}`, signature) ? text : undefined;
}

/**
 * The text of a signed entry after its signature, or `CACHE_ENTRY_CORRUPT` naming the `store`
 * (`"Redis"`, `"memcached"`) and the key when the signature is wrong: an entry written without the
 * secret is a miss.
 */
export function verifiedEntry(
  signer: MessageSigner,
  store: string,
  key: string,
  serverKey: string,
  signedText: string,
): string {
  const text = verifiedText(signer, signedText, serverKey);
  if (text === undefined) {
    throw new CacheEntryCorruptError(
      `the ${store} entry of "${key}" has no valid signature: it was not written by a process holding the topology's auth secret; it is treated as a miss`,
      { details: { key, reason: 'signature' } },
    );
  }
  return text;
}
