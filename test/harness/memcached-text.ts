/**
 * Raw access to a memcached server over its text protocol, for tests that look behind a store (what
 * it wrote, how many items a server holds) or plant items a store did not write.
 */
import { connect } from 'node:net';

/**
 * Sends `command` over a fresh connection and resolves with the reply once it ends with `end` (default
 * `END\r\n`); rejects when the connection fails or no full reply comes within 2 s.
 *
 * @example
 * await memcachedText(server.port, 'stats\r\n');
 */
export function memcachedText(port: number, command: string, end = 'END\r\n'): Promise<string> {
  return new Promise((resolve, reject) => {
    let reply = '';
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error === undefined) resolve(reply);
      else reject(error);
    };
    const timer = setTimeout(
      () =>
        finish(new Error(`memcached on port ${port} did not answer ${JSON.stringify(command.slice(0, 60))}`)),
      2_000,
    );
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(command));
    socket.on('data', (text: string) => {
      reply += text;
      if (reply.endsWith(end)) finish();
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () =>
      finish(new Error(`memcached on port ${port} closed after ${JSON.stringify(reply)}`)),
    );
  });
}

/** Stores `value` (UTF-8) under `key` with no expiry, as any client could. */
export async function memcachedSet(port: number, key: string, value: string): Promise<void> {
  const reply = await memcachedText(
    port,
    `set ${key} 0 0 ${Buffer.byteLength(value)}\r\n${value}\r\n`,
    '\r\n',
  );
  if (reply !== 'STORED\r\n') throw new Error(`memcached refused set ${key}: ${reply.trim()}`);
}

/** The value under `key` (UTF-8), or `undefined`. */
export async function memcachedGet(port: number, key: string): Promise<string | undefined> {
  const reply = await memcachedText(port, `get ${key}\r\n`);
  if (reply === 'END\r\n') return undefined;
  const header = reply.indexOf('\r\n');
  return reply.slice(header + 2, reply.length - '\r\nEND\r\n'.length);
}

/** How many items the server holds now (`curr_items`). */
export async function memcachedItemCount(port: number): Promise<number> {
  const reply = await memcachedText(port, 'stats\r\n');
  const match = /STAT curr_items (\d+)/.exec(reply);
  if (match === null) throw new Error('memcached stats have no curr_items');
  return Number(match[1]);
}
