/** Free consecutive TCP ports, for replicas that `replicas: N` places on consecutive ports. */
import { createServer } from 'node:net';
import { LOOPBACK } from './servers.js';

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * The first of `count` consecutive ports that are free on `host` right now (each one listened on and
 * closed), chosen at random between 20000 and 60000.
 *
 * @example
 * const base = await getFreePortRange(3); // base, base + 1 and base + 2 are free
 */
export async function getFreePortRange(count: number, host: string = LOOPBACK): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    let free = true;
    for (let port = base; port < base + count && free; port++) free = await canListen(port, host);
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports found on ${host}`);
}
