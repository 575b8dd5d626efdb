/**
 * Free TCP ports for test servers and app processes. They are chosen below the kernel's ephemeral
 * range (`/proc/sys/net/ipv4/ip_local_port_range`), where outgoing connections take their local ports:
 * a port handed out from that range (as listening on port 0 does) can be taken by a client socket of
 * another test before the server binds it, which then fails with EADDRINUSE.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The loopback address test servers listen on. */
export const LOOPBACK = '127.0.0.1';

/** The lowest port the test harness hands out. */
const LOWEST = 10_000;

/** The first port of the kernel's ephemeral range (32768 when it cannot be read). */
function ephemeralStart(): number {
  try {
    const first = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    return Number.isInteger(first) && first > LOWEST + 1_000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

const HIGHEST = ephemeralStart() - 1;

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
 * closed), chosen at random below the ephemeral range.
 *
 * @example
 * const base = await getFreePortRange(3); // base, base + 1 and base + 2 are free
 */
export async function getFreePortRange(count: number, host: string = LOOPBACK): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST - count));
    let free = true;
    for (let port = base; port < base + count && free; port++) free = await canListen(port, host);
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports found on ${host} between ${LOWEST} and ${HIGHEST}`);
}

/**
 * A TCP port that is free on `host` right now, below the ephemeral range.
 *
 * @example
 * const port = await getFreePort();
 */
export function getFreePort(host: string = LOOPBACK): Promise<number> {
  return getFreePortRange(1, host);
}
