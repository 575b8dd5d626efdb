/**
 * Key layout of the `redis-streams` transport. Every key of one event shares the hash tag `{event}`, so
 * the scripts that touch several of them stay on one slot (Redis Cluster friendly).
 *
 * ```
 * <prefix>:{<event>}                    stream of the event (field `e`: the encoded envelope)
 * <prefix>:{<event>}:retry:<group>      the group's own retry stream (fields `a`: attempts made, `e`)
 * <prefix>:{<event>}:delayed:<group>    retries waiting for their time (sorted set, score: due ms)
 * <prefix>:{<event>}:inbox:<group>      ids the group completed (sorted set, score: completion ms)
 * <prefix>:{<event>}:dead               dead letters of the event (hash: dead-letter id → record)
 * <prefix>:{<event>}:counters           counters (hash: `dropped` by capped trimming)
 * <prefix>:events                       names of the events with consumer groups (set)
 * ```
 */

/** Builds the keys of one prefix. */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** The event's stream. */
  stream(event: string): string {
    return `${this.prefix}:{${event}}`;
  }

  /** The retry stream of one group of the event. */
  retry(event: string, group: string): string {
    return `${this.prefix}:{${event}}:retry:${group}`;
  }

  /** Retries of one group waiting for their due time. */
  delayed(event: string, group: string): string {
    return `${this.prefix}:{${event}}:delayed:${group}`;
  }

  /** Event ids one group completed. */
  inbox(event: string, group: string): string {
    return `${this.prefix}:{${event}}:inbox:${group}`;
  }

  /** Dead letters of the event. */
  dead(event: string): string {
    return `${this.prefix}:{${event}}:dead`;
  }

  /** Counters of the event. */
  counters(event: string): string {
    return `${this.prefix}:{${event}}:counters`;
  }

  /** Names of the events that have consumer groups. */
  registry(): string {
    return `${this.prefix}:events`;
  }
}
