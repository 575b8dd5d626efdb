/** What a redis-streams subscription needs from its transport. */
import type { LuaScript } from '@blueprint/core/redis';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

/** Timings and sizes a consumer uses, in ms and counts. */
export interface RedisConsumerSettings {
  readonly block: number;
  readonly count: number;
  readonly claimInterval: number;
  readonly visibilityTimeout: number;
  readonly staleConsumerAfter: number;
  readonly housekeepingInterval: number;
}

/** What a consumer needs from its transport. */
export interface RedisConsumerHost {
  readonly keys: RedisKeys;
  readonly settings: RedisConsumerSettings;
  readonly consumerName: string;
  readonly counters: Record<string, number>;
  /** The shared command connection. */
  command(): Redis;
  /** A new dedicated connection, ready. */
  openBlockingConnection(name: string): Promise<Redis>;
  /** Runs a script on the command connection. */
  run(script: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
}
