import { existsSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type MemcachedHandle, startMemcached } from './index.js';

const started: MemcachedHandle[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.stop()));
});

async function memcached(...options: Parameters<typeof startMemcached>): Promise<MemcachedHandle> {
  const server = await startMemcached(...options);
  started.push(server);
  return server;
}

/**
 * Sends `command` over a fresh text-protocol connection and resolves with the reply once it ends with
 * `end` (default `END\r\n`); resolves with the error code (`ECONNREFUSED`) when the connection fails.
 */
function exchange(port: number, command: string, end = 'END\r\n'): Promise<string> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = tcpConnect({ host: '127.0.0.1', port });
    const done = (outcome: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done(`timeout after ${JSON.stringify(reply)}`), 2_000);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(command));
    socket.on('data', (text: string) => {
      reply += text;
      if (reply.endsWith(end)) done(reply);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    socket.on('close', () => done(`closed after ${JSON.stringify(reply)}`));
  });
}

describe('startMemcached', () => {
  it('starts memcached on a loopback port with a plain host:port address', async () => {
    const server = await memcached();
    expect(server.host).toBe('127.0.0.1');
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
    expect(server.url).toBe(server.address);
    expect(await exchange(server.port, 'version\r\n', '\r\n')).toMatch(/^VERSION \d+\.\d+/);
  });

  it('stores and returns a key over the text protocol', async () => {
    const server = await memcached();
    expect(await exchange(server.port, 'set greeting 7 0 5\r\nhello\r\n', '\r\n')).toBe('STORED\r\n');
    expect(await exchange(server.port, 'get greeting\r\n')).toBe('VALUE greeting 7 5\r\nhello\r\nEND\r\n');
  });

  it('refuses connections after kill() and answers again, empty, after restart() on the same port', async () => {
    const server = await memcached();
    const { port, pid } = server;
    expect(await exchange(port, 'set k 0 0 1\r\nv\r\n', '\r\n')).toBe('STORED\r\n');

    await server.kill();
    expect(server.running).toBe(false);
    expect(await exchange(port, 'get k\r\n')).toBe('ECONNREFUSED');

    await server.restart();
    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(pid);
    expect(await exchange(port, 'get k\r\n')).toBe('END\r\n');
  });

  it('applies memoryMb, maxItemSize and threads', async () => {
    const server = await memcached({ memoryMb: 16, maxItemSize: '2m', threads: 2 });
    const settings = await exchange(server.port, 'stats settings\r\n');
    expect(settings).toContain('STAT maxbytes 16777216\r\n');
    expect(settings).toContain('STAT item_size_max 2097152\r\n');
    expect(settings).toContain('STAT num_threads 2\r\n');
  });

  it('removes its temp dir and refuses connections after stop()', async () => {
    const server = await memcached();
    await server.stop();
    expect(existsSync(server.dir)).toBe(false);
    expect(await exchange(server.port, 'version\r\n', '\r\n')).toBe('ECONNREFUSED');
  });
});
