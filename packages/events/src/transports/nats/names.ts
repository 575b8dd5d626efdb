/**
 * Names of what the `nats` transport keeps on JetStream, all derived from one stream name:
 *
 * ```
 * <stream>                        stream of the events; subject `<stream>.<event name>`
 * <stream>_replay                 replayed dead letters; subject `<stream>_replay.<group>.<event name>` (work queue)
 * <group>__<event>_<hash>         durable pull consumer of one group for one event, on both streams
 * KV <stream>_dead                dead letters; key `<group>.<event name>.<event id>`
 * KV <stream>_inbox_<group>       ids the group completed; key `<event name>.<event id>`
 * ```
 *
 * Event ids that are not plain `[A-Za-z0-9-]` (they may hold `.`, `_` or `~`) are stored in KV keys as
 * `_` + base64url, so a key always has exactly one id token.
 */
import type { CodedErrorClass } from '@blueprint/core';
import { EventsConfigError } from '../../errors.js';

/** Stream names: letters, digits, `_` and `-` (they also name KV buckets). */
export const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

const PLAIN_ID = /^[A-Za-z0-9-]+$/;
const MAX_DURABLE = 200;

/** FNV-1a of `text`, in base 36: a short, stable tag. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

/** Encodes an event id as one KV key token. */
export function encodeIdToken(id: string): string {
  return PLAIN_ID.test(id) ? id : `_${Buffer.from(id, 'utf8').toString('base64url')}`;
}

/** Reverses {@link encodeIdToken}. */
export function decodeIdToken(token: string): string {
  return token.startsWith('_') ? Buffer.from(token.slice(1), 'base64url').toString('utf8') : token;
}

/** Builds every JetStream name of one stream. */
export class NatsNames {
  /** The replay stream. */
  readonly replayStream: string;
  /** The dead-letter KV bucket. */
  readonly deadBucket: string;

  constructor(readonly stream: string) {
    this.replayStream = `${stream}_replay`;
    this.deadBucket = `${stream}_dead`;
  }

  /** Subject of an event on the events stream. */
  subject(event: string): string {
    return `${this.stream}.${event}`;
  }

  /** Subject a group's replayed dead letters of `event` are published to. */
  replaySubject(group: string, event: string): string {
    return `${this.replayStream}.${group}.${event}`;
  }

  /** Durable consumer name of a group for an event (the same on both streams). */
  durable(group: string, event: string): string {
    const flat = event.replace(/\./g, '_');
    const tag = hash(event);
    const head = `${group}__${flat}`.slice(0, MAX_DURABLE - tag.length - 1);
    return `${head}_${tag}`;
  }

  /** The inbox KV bucket of a group. */
  inboxBucket(group: string): string {
    return `${this.stream}_inbox_${group}`;
  }

  /** Key of an event id in a group's inbox. */
  inboxKey(event: string, eventId: string): string {
    return `${event}.${encodeIdToken(eventId)}`;
  }

  /** Key of a dead letter. */
  deadKey(group: string, event: string, eventId: string): string {
    return `${group}.${event}.${encodeIdToken(eventId)}`;
  }

  /** Key filter of dead letters of a group and/or an event. */
  deadFilter(group: string | undefined, event: string | undefined): string {
    if (event === undefined) return group === undefined ? '>' : `${group}.>`;
    return `${group ?? '*'}.${event}.*`;
  }
}

/** False when `event` cannot be a subject (an empty token, as in `"a..b"`). */
export function isSubjectSafe(event: string): boolean {
  return !event.includes('..');
}

/**
 * Throws when `event` cannot be a subject (an empty token, as in `"a..b"`). Event names are otherwise
 * valid subject tokens.
 */
export function checkEventName(event: string, error: CodedErrorClass): void {
  if (!isSubjectSafe(event)) {
    throw new error(
      `event name ${JSON.stringify(event)} has an empty part between dots, which NATS subjects refuse; rename it (e.g. "${event.replace(/\.{2,}/g, '.')}")`,
    );
  }
}

/** Throws `EVENTS_CONFIG_INVALID` for a stream name NATS refuses (or that cannot name a KV bucket). */
export function checkStreamName(stream: string): void {
  if (typeof stream !== 'string' || !STREAM_NAME.test(stream)) {
    throw new EventsConfigError(
      `invalid NATS stream name ${JSON.stringify(stream)}: use 1 to 64 letters, digits, "_" or "-" (e.g. "bp_shop")`,
    );
  }
}
