/**
 * @blueprint/core/redis — the Redis toolkit of every Redis driver (cache stores, the Redis Streams
 * event transport). Needs `ioredis`, an optional peer dependency loaded only when a driver connects.
 */

export { settleWithin } from '../timing.js';
export {
  classifyRedisError,
  closeClient,
  connectionOptions,
  type IoRedis,
  LuaScript,
  loadIoRedis,
  type RedisConnectionSettings,
  type RedisUnavailableReason,
} from './connection.js';
