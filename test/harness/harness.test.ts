import { existsSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Redis, type RedisOptions } from 'ioredis';
import { connect, StringCodec } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ServerHandle, startFaultProxy, startNats, startRedis, waitFor } from './index.js';

const clients: Redis[] = [];

/** An ioredis client that never retries or reconnects, so faults surface at once. */
function redisClient(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, { retryStrategy: () => null, maxRetriesPerRequest: 0, ...options });
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

/**
 * Opens a raw TCP connection, optionally writes `send`, and reports the first thing that happens:
 * `data:<text>`, an error code, `closed`, or `silent` after `quietMs`.
 */
function rawOutcome(port: number, send?: string, quietMs = 1_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    const done = (outcome: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done('silent'), quietMs);
    socket.on('connect', () => {
      if (send !== undefined) socket.write(send);
    });
    socket.on('data', (data) => done(`data:${String(data)}`));
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    socket.on('close', () => done('closed'));
  });
}

afterEach(async () => {
  const closing = clients.splice(0);
  for (const client of closing) client.disconnect();
  await waitFor(() => closing.every((client) => client.status === 'end'), { message: 'clients to close' });
});

describe('shared servers from the global setup', () => {
  it('provides a Redis URL that answers, also as REDIS_URL', async () => {
    const url = inject('redisUrl');
    expect(process.env.REDIS_URL).toBe(url);
    expect(await redisClient(url).ping()).toBe('PONG');
  });

  it('provides a NATS URL with JetStream, also as NATS_URL', async () => {
    const url = inject('natsUrl');
    expect(process.env.NATS_URL).toBe(url);
    const nc = await connect({ servers: url });
    const info = await (await nc.jetstreamManager()).getAccountInfo();
    expect(info.limits).toBeDefined();
    await nc.close();
  });
});

describe('startRedis', () => {
  it('starts a private Redis on a loopback port and removes everything on stop()', async () => {
    const redis = await startRedis();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(redis.dir).toMatch(/blueprint-redis-/);
    expect(await redisClient(redis.url).ping()).toBe('PONG');

    await redis.stop();
    expect(redis.running).toBe(false);
    expect(existsSync(redis.dir)).toBe(false);
    expect(await rawOutcome(redis.port)).toBe('ECONNREFUSED');
  });

  it('keeps appendonly data across kill -9 and restart() on the same port', async () => {
    const redis = await startRedis({ appendOnly: true, appendFsync: 'always' });
    try {
      const before = redisClient(redis.url);
      await before.set('survivor', 'yes');
      const firstPid = redis.pid;

      await redis.kill();
      expect(redis.running).toBe(false);
      expect(() => process.kill(firstPid, 0)).toThrow();
      await expect(before.ping()).rejects.toThrow();

      await redis.restart();
      expect(redis.pid).not.toBe(firstPid);
      expect(await redisClient(redis.url).get('survivor')).toBe('yes');
    } finally {
      await redis.stop();
    }
  });
});

describe('port collisions', () => {
  it('fails clearly instead of adopting another server that holds the port', async () => {
    const redis = await startRedis();
    const nats = await startNats();
    try {
      await expect(startRedis({ port: redis.port })).rejects.toThrow(/address already in use/i);
      await expect(startNats({ port: nats.port })).rejects.toThrow(/address already in use/i);
    } finally {
      await Promise.all([redis.stop(), nats.stop()]);
    }
  });
});

describe('startNats', () => {
  it('starts nats-server whose JetStream file store survives kill -9 and restart()', async () => {
    const nats = await startNats();
    const codec = StringCodec();
    try {
      let nc = await connect({ servers: nats.url });
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: 'HARNESS', subjects: ['harness.>'] });
      const ack = await nc.jetstream().publish('harness.one', codec.encode('hello'));
      expect(ack.seq).toBe(1);
      await nc.close();

      await nats.kill();
      await nats.restart();

      nc = await connect({ servers: nats.url });
      const stream = await (await nc.jetstreamManager()).streams.info('HARNESS');
      expect(stream.state.messages).toBe(1);
      await nc.close();
    } finally {
      await nats.stop();
    }
    expect(existsSync(nats.dir)).toBe(false);
  });
});

describe('waitFor', () => {
  it('names what it waited for and keeps the last error as the cause', async () => {
    const failing = waitFor(
      () => {
        throw new Error('not yet');
      },
      { timeout: 50, message: 'the impossible' },
    );
    await expect(failing).rejects.toThrow(
      /timed out after \d+ ms waiting for the impossible \(last error: not yet\)/,
    );
  });
});

describe('startFaultProxy', () => {
  let redis: ServerHandle;
  const target = () => ({ host: redis.host, port: redis.port });

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await redis.stop();
  });

  it('relays both ways in pass mode', async () => {
    await using proxy = await startFaultProxy({ target: target() });
    expect(proxy.url('redis')).toBe(`redis://127.0.0.1:${proxy.port}`);
    expect(await redisClient(proxy.url('redis')).ping()).toBe('PONG');
    expect(proxy.connections).toBe(1);
  });

  it('delays each direction by the latency in latency mode', async () => {
    await using proxy = await startFaultProxy({ target: target() });
    const client = redisClient(proxy.url('redis'));
    await client.ping();

    proxy.setLatency(100);
    await proxy.setMode('latency');
    let started = performance.now();
    expect(await client.ping()).toBe('PONG');
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);

    await proxy.setMode('pass');
    started = performance.now();
    await client.ping();
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('stops forwarding in blackhole mode, without losing what was held', async () => {
    await using proxy = await startFaultProxy({ target: target() });
    const client = redisClient(proxy.url('redis'), { commandTimeout: 200 });
    await client.ping();

    await proxy.setMode('blackhole');
    await expect(client.ping()).rejects.toThrow(/timed out/i);
    expect(await rawOutcome(proxy.port, 'PING\r\n', 150)).toBe('silent');

    await proxy.setMode('pass');
    expect(await client.ping()).toBe('PONG');
  });

  it('refuses connections in refuse mode and listens on the same port again afterwards', async () => {
    await using proxy = await startFaultProxy({ target: target() });
    await proxy.setMode('refuse');
    expect(await rawOutcome(proxy.port, 'PING\r\n')).toBe('ECONNREFUSED');
    const client = redisClient(proxy.url('redis'), { lazyConnect: true });
    const errors: string[] = [];
    client.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
    await expect(client.connect()).rejects.toThrow();
    expect(errors).toContain('ECONNREFUSED');

    await proxy.setMode('pass');
    expect(await rawOutcome(proxy.port, 'PING\r\n')).toBe('data:+PONG\r\n');
  });

  it('resets existing and new connections in reset mode', async () => {
    await using proxy = await startFaultProxy({ target: target() });
    const client = redisClient(proxy.url('redis'));
    const errors: string[] = [];
    client.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
    await client.ping();

    await proxy.setMode('reset');
    await waitFor(() => errors.includes('ECONNRESET'), { message: 'the open connection to be reset' });
    expect(await rawOutcome(proxy.port)).toBe('ECONNRESET');
    await waitFor(() => proxy.connections === 0, { message: 'the proxy to drop its connections' });
  });

  it('relays ECONNREFUSED from a dead target as a reset', async () => {
    const dead = await startRedis();
    await dead.stop();
    await using proxy = await startFaultProxy({ target: { host: dead.host, port: dead.port } });
    expect(await rawOutcome(proxy.port)).toBe('ECONNRESET');
  });

  it('leaves no listener and no socket behind after close()', async () => {
    const tcpHandles = () =>
      process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap' || name === 'TCPServerWrap')
        .length;
    await waitFor(() => tcpHandles() === 0, { message: 'earlier tests to close their sockets' });
    const proxy = await startFaultProxy({ target: target() });
    await proxy.setMode('refuse');
    await proxy.setMode('pass');
    const held = rawOutcome(proxy.port, undefined, 5_000);
    await waitFor(() => proxy.connections === 1, { message: 'the proxy to accept a connection' });

    await proxy.close();
    expect(await held).toBe('closed');
    expect(proxy.connections).toBe(0);
    expect(tcpHandles()).toBe(0);
    expect(await rawOutcome(proxy.port)).toBe('ECONNREFUSED');
  });
});
