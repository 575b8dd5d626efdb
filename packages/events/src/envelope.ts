/**
 * The envelope: what travels for every event, whatever the transport.
 *
 * `id` is ours (a UUID v7 by default), never the broker's, so the inbox and dead letters work the same
 * on every transport. Envelopes are encoded with core's `jsonCodec`, so `Date`, `bigint`, `Map` and
 * `Set` values of the payload survive the trip.
 *
 * With auth on, the publishing bus signs each envelope ({@link signEnvelope}): the signed text is the
 * envelope's encoded text with one more, last member, `"signature"`, an HMAC-SHA256 of the text before
 * it. Every transport stores that text as it is, so a consumer checks the signature over the very bytes
 * it decodes ({@link signatureProblem}).
 */
import { CodecError } from '@blueprint/core';
import type { MessageSigner } from '@blueprint/core/plugin';
import { CODEC_TAG, jsonCodec } from '@blueprint/core/transport';
import type { AnyEvent } from './define-event.js';
import { eventFingerprint } from './event-fingerprint.js';

/** Headers carried with an event, e.g. `x-correlation-id` and `traceparent` (lower-case names). */
export type EventHeaders = Readonly<Record<string, string>>;

/** One event as it travels. */
export interface EventEnvelope<P = unknown> {
  /** Unique id of the event (UUID v7 unless the publisher gave one). Stays the same on redelivery. */
  readonly id: string;
  /** Event name. */
  readonly name: string;
  /** Payload version. */
  readonly version: number;
  /**
   * The fingerprint of the publisher's payload schema (16 hex digits): a consumer whose schema for this
   * version differs judges the event by the compatibility rules. Absent in envelopes of older publishers.
   */
  readonly fingerprint?: string | undefined;
  /** When the event was published. */
  readonly occurredAt: Date;
  /** The publisher's key (an entity id, say), if any. Carried to handlers and dead letters. */
  readonly key?: string | undefined;
  /** Headers passed through from the publisher: correlation id, trace context, your own. */
  readonly headers: EventHeaders;
  /** The payload as published (validated). Handlers receive it parsed by their own schema. */
  readonly payload: P;
  /**
   * The publisher's signature (base64url HMAC-SHA256) of the rest of the envelope's stored text, when
   * the topology authenticates calls (`auth`). The bus checks it before the payload and the handler.
   */
  readonly signature?: string | undefined;
}

/** Frozen empty headers shared by every envelope published without headers. */
export const NO_HEADERS: EventHeaders = Object.freeze({});

const parsedOutput = Symbol('blueprint:events:parsed');
const parsedBy = Symbol('blueprint:events:parsedBy');

/**
 * An envelope made by this process's bus. It remembers the payload as parsed at publish, so an
 * in-process consumer with the very same event definition does not parse it again. Symbol keys are not
 * encoded.
 */
export class LocalEnvelope implements EventEnvelope {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly occurredAt: Date;
  readonly key: string | undefined;
  readonly headers: EventHeaders;
  readonly payload: unknown;
  /** Set by {@link signEnvelope}. */
  signature: string | undefined = undefined;
  readonly [parsedOutput]: unknown;
  readonly [parsedBy]: AnyEvent;

  constructor(
    id: string,
    event: AnyEvent,
    occurredAt: Date,
    key: string | undefined,
    headers: EventHeaders,
    payload: unknown,
    parsed: unknown,
  ) {
    this.id = id;
    this.name = event.name;
    this.version = event.version;
    this.occurredAt = occurredAt;
    this.key = key;
    this.headers = headers;
    this.payload = payload;
    this[parsedOutput] = parsed;
    this[parsedBy] = event;
  }

  /** The fingerprint of the publishing definition's schema, computed when first read (not per publish). */
  get fingerprint(): string {
    return eventFingerprint(this[parsedBy]);
  }
}

/** The payload as parsed by `event`'s schema at publish, when `envelope` was published here with it. */
export function parsedPayload(envelope: EventEnvelope, event: AnyEvent): { value: unknown } | undefined {
  if (envelope instanceof LocalEnvelope && envelope[parsedBy] === event)
    return { value: envelope[parsedOutput] };
  return undefined;
}

const PLAIN = /^[A-Za-z0-9._~-]+$/;
const FINGERPRINT = /^[0-9a-f]{16}$/;

/** How a signed text ends: this member, 43 base64url characters, `"}`. */
const SIGNATURE_MEMBER = ',"signature":"';
const SIGNATURE_LENGTH = 43;
const SIGNED_END = SIGNATURE_MEMBER.length + SIGNATURE_LENGTH + 2;
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

/**
 * The signed text of an envelope: made by {@link signEnvelope}, or the text a signed envelope was
 * decoded from. Kept beside the object, not on it, so a copy of an envelope (`{ ...envelope }`, with a
 * changed payload) carries no signature of the original.
 */
const signedTexts = new WeakMap<EventEnvelope, string>();

/** True when `text` ends with a signature member (whether the signature is right is not checked here). */
function looksSigned(text: string): boolean {
  const at = text.length - SIGNED_END;
  return (
    at > 0 &&
    text.startsWith(SIGNATURE_MEMBER, at) &&
    text.endsWith('"}') &&
    SIGNATURE.test(text.slice(at + SIGNATURE_MEMBER.length, text.length - 2))
  );
}

/**
 * Signs an envelope made by this process's bus: from now on {@link encodeEnvelope} gives its signed
 * text, which every transport stores. Throws `CodecError` for a payload the codec cannot encode.
 */
export function signEnvelope(envelope: LocalEnvelope, signer: MessageSigner): void {
  const text = encodeEnvelope(envelope);
  const signature = signer.sign(text);
  signedTexts.set(envelope, `${text.slice(0, -1)}${SIGNATURE_MEMBER}${signature}"}`);
  envelope.signature = signature;
}

/**
 * Why `envelope` fails the signature check of `signer`, or `undefined` when its signature is right: the
 * text it was signed or decoded as must end with a signature member whose HMAC covers everything before
 * it (id, name, version, time, key, headers and the encoded payload).
 */
export function signatureProblem(envelope: EventEnvelope, signer: MessageSigner): string | undefined {
  const text = signedTexts.get(envelope);
  if (text === undefined) return 'is not signed';
  const at = text.length - SIGNED_END;
  const signature = text.slice(at + SIGNATURE_MEMBER.length, text.length - 2);
  return signer.verify(`${text.slice(0, at)}}`, signature) ? undefined : 'has a wrong signature';
}

/**
 * Encodes an envelope to text in core's `jsonCodec` format (what `jsonCodec.encode(envelope)` gives, so
 * `jsonCodec.decode` reads it). The frame is written directly; the payload and any headers go through
 * the codec. A signed envelope gives its signed text. Throws `CodecError` for a payload the codec
 * cannot encode.
 */
export function encodeEnvelope(envelope: EventEnvelope): string {
  const signed = signedTexts.get(envelope);
  if (signed !== undefined) return signed;
  const { id, name, version, fingerprint, occurredAt, key, headers, payload } = envelope;
  const time = occurredAt instanceof Date ? occurredAt.getTime() : Number.NaN;
  if (
    !PLAIN.test(id) ||
    !PLAIN.test(name) ||
    !Number.isInteger(version) ||
    Number.isNaN(time) ||
    (fingerprint !== undefined && !FINGERPRINT.test(fingerprint))
  ) {
    // A LocalEnvelope's fingerprint is a getter, which the codec does not see.
    return jsonCodec.encode(envelope instanceof LocalEnvelope ? { ...envelope, fingerprint } : envelope);
  }
  let text = `{"id":"${id}","name":"${name}","version":${version}`;
  if (fingerprint !== undefined) text += `,"fingerprint":"${fingerprint}"`;
  text += `,"occurredAt":{"${CODEC_TAG}":"date","v":"${occurredAt.toISOString()}"}`;
  if (key !== undefined) text += `,"key":${JSON.stringify(key)}`;
  text += `,"headers":${headers === NO_HEADERS ? '{}' : jsonCodec.encode(headers)}`;
  return payload === undefined ? `${text}}` : `${text},"payload":${jsonCodec.encode(payload)}}`;
}

/**
 * Decodes text made by {@link encodeEnvelope}. Throws `CodecError` (`CODEC_INVALID`) naming the problem
 * for malformed or unsafe text (`__proto__` keys) or a value that is not an envelope. The text of a
 * signed envelope is kept for {@link signatureProblem}.
 */
export function decodeEnvelope(text: string): EventEnvelope {
  const value = jsonCodec.decode(text) as Record<string, unknown> | null;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CodecError('malformed event: expected an envelope object');
  }
  const { id, name, version, fingerprint, occurredAt, key, headers } = value;
  if (typeof id !== 'string' || id.length === 0) throw new CodecError('malformed event: "id" is missing');
  if (typeof name !== 'string' || name.length === 0) {
    throw new CodecError(`malformed event ${id}: "name" is missing`);
  }
  if (typeof version !== 'number' || !Number.isInteger(version)) {
    throw new CodecError(`malformed event ${id}: "version" is not a whole number`);
  }
  if (fingerprint !== undefined && (typeof fingerprint !== 'string' || !FINGERPRINT.test(fingerprint))) {
    throw new CodecError(`malformed event ${id}: "fingerprint" is not 16 hex digits`);
  }
  if (!(occurredAt instanceof Date) || Number.isNaN(occurredAt.getTime())) {
    throw new CodecError(`malformed event ${id}: "occurredAt" is not a date`);
  }
  if (key !== undefined && typeof key !== 'string') {
    throw new CodecError(`malformed event ${id}: "key" is not a string`);
  }
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new CodecError(`malformed event ${id}: "headers" is not an object`);
  }
  for (const header of Object.values(headers)) {
    if (typeof header !== 'string') throw new CodecError(`malformed event ${id}: a header is not a string`);
  }
  const envelope = value as unknown as EventEnvelope;
  if (looksSigned(text)) signedTexts.set(envelope, text);
  return envelope;
}
