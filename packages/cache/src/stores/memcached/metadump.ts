/**
 * Lists the keys a memcached server holds under a prefix, with the text protocol's
 * `lru_crawler metadump all` (memcached 1.4.31 and later; the LRU crawler is on by default since 1.5).
 * `clear()` needs it: memcached has no other way to find keys by prefix, and `flush_all` would empty the
 * whole server, other apps' keys included.
 */
import { connect } from 'node:net';

/** How often a busy crawler is asked again, and how many times. */
const BUSY_RETRY_MS = 50;
const BUSY_RETRIES = 40;

/** Why a dump failed: the server could not be reached, or it refused the command (crawler off). */
export class MetadumpError extends Error {
  constructor(
    message: string,
    readonly refused: boolean,
  ) {
    super(message);
  }
}

/**
 * The keys under `prefix` on the memcached server at `address` (`host:port`). Rejects with a
 * {@link MetadumpError} when the server cannot be reached, refuses the command, or takes longer than
 * `timeout` ms.
 */
export async function keysWithPrefix(address: string, prefix: string, timeout: number): Promise<string[]> {
  for (let attempt = 0; ; attempt++) {
    const result = await dump(address, prefix, timeout);
    if (result !== 'busy') return result;
    if (attempt >= BUSY_RETRIES) {
      throw new MetadumpError(`memcached at ${address} kept answering BUSY to lru_crawler metadump`, false);
    }
    await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_MS).unref());
  }
}

function dump(address: string, prefix: string, timeout: number): Promise<string[] | 'busy'> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon);
  const port = Number(address.slice(colon + 1));
  return new Promise((resolve, reject) => {
    const keys: string[] = [];
    let pending = '';
    let settled = false;
    const socket = connect({ host, port });
    const finish = (outcome: string[] | 'busy' | MetadumpError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (outcome instanceof MetadumpError) reject(outcome);
      else resolve(outcome);
    };
    const timer = setTimeout(
      () =>
        finish(
          new MetadumpError(`memcached at ${address} did not finish a metadump within ${timeout} ms`, false),
        ),
      timeout,
    );
    timer.unref();
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write('lru_crawler metadump all\r\n'));
    socket.on('data', (chunk: string) => {
      pending += chunk;
      let end = pending.indexOf('\n');
      while (end >= 0) {
        const line = pending.slice(0, end).replace(/\r$/, '');
        pending = pending.slice(end + 1);
        if (line === 'END') return finish(keys);
        if (line.startsWith('BUSY')) return finish('busy');
        if (line.startsWith('key=')) {
          const key = decodeKey(line.slice(4, line.indexOf(' ') < 0 ? undefined : line.indexOf(' ')));
          if (key?.startsWith(prefix)) keys.push(key);
        } else if (line.length > 0) {
          return finish(
            new MetadumpError(
              `memcached at ${address} refused lru_crawler metadump ("${line.slice(0, 200)}"); clear() needs the LRU crawler (do not start memcached with -o no_lru_crawler)`,
              true,
            ),
          );
        }
        end = pending.indexOf('\n');
      }
    });
    socket.on('error', (error) =>
      finish(new MetadumpError(`memcached at ${address} cannot be reached: ${error.message}`, false)),
    );
    socket.on('close', () =>
      finish(new MetadumpError(`memcached at ${address} closed the connection during a metadump`, false)),
    );
  });
}

/** Keys in a metadump are URI-encoded bytes; memcached keys here are UTF-8. */
function decodeKey(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
