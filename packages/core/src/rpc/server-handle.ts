/** What a started RPC server hands back, whatever its transport. */
import type { Server } from 'node:net';
import type { RpcServer } from './types.js';

/**
 * The {@link RpcServer} of a server listening on `url`: `inFlight` reads the calls being handled, and
 * `close` runs `shutdown` once (a second close gets the first one's promise).
 */
export function rpcServerHandle(
  url: string,
  inFlight: () => number,
  shutdown: (drainTimeoutMs: number) => Promise<void>,
): RpcServer {
  let closing: Promise<void> | undefined;
  return {
    url,
    get inFlight() {
      return inFlight();
    },
    close(drainTimeoutMs: number) {
      closing ??= shutdown(drainTimeoutMs);
      return closing;
    },
  };
}

/** Stops `server` accepting connections; resolves once the last one has closed. */
export function stopAccepting(server: Server): Promise<void> {
  return new Promise<void>((resolve) => server.close(() => resolve()));
}
