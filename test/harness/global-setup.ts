/**
 * Global setup of the `integration` vitest project.
 *
 * Starts one shared `redis-server` and one shared `nats-server` (JetStream on) for the whole run, unless
 * `REDIS_URL` / `NATS_URL` are set, in which case those servers are used as they are. Tests read the URLs
 * with `inject('redisUrl')` / `inject('natsUrl')`; `process.env.REDIS_URL` / `NATS_URL` are set too, so
 * test workers and the child processes they spawn see them. Shared servers must not be killed: a test
 * that needs a killable server starts its own with `startRedis()` / `startNats()`.
 */
import type { TestProject } from 'vitest/node';
import { type ServerHandle, startNats, startRedis } from './servers.js';

declare module 'vitest' {
  /** Values the integration global setup provides to tests through `inject()`. */
  export interface ProvidedContext {
    /** URL of the shared Redis, e.g. `redis://127.0.0.1:40123`. */
    redisUrl: string;
    /** URL of the shared NATS server (JetStream enabled), e.g. `nats://127.0.0.1:40124`. */
    natsUrl: string;
  }
}

/**
 * Starts (or adopts from the environment) the shared servers and provides their URLs; returns the
 * teardown that stops what it started and restores the environment.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const previous = { REDIS_URL: process.env.REDIS_URL, NATS_URL: process.env.NATS_URL };
  const [redis, nats] = await Promise.allSettled([
    previous.REDIS_URL ? undefined : startRedis(),
    previous.NATS_URL ? undefined : startNats(),
  ]);
  const started = [redis, nats].flatMap((result) =>
    result.status === 'fulfilled' && result.value !== undefined ? [result.value] : [],
  );
  const teardown = async () => {
    await Promise.all(started.map((server: ServerHandle) => server.stop()));
    restoreEnv('REDIS_URL', previous.REDIS_URL);
    restoreEnv('NATS_URL', previous.NATS_URL);
  };
  const failure = [redis, nats].find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    await teardown();
    throw failure.reason;
  }

  const redisUrl = previous.REDIS_URL || (redis.status === 'fulfilled' ? redis.value?.url : undefined) || '';
  const natsUrl = previous.NATS_URL || (nats.status === 'fulfilled' ? nats.value?.url : undefined) || '';
  process.env.REDIS_URL = redisUrl;
  process.env.NATS_URL = natsUrl;
  project.provide('redisUrl', redisUrl);
  project.provide('natsUrl', natsUrl);
  return teardown;
}

function restoreEnv(name: 'REDIS_URL' | 'NATS_URL', value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
