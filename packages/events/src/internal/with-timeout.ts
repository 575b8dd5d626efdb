/** Bounding how long the bus or a transport waits on a promise it does not control. */

/**
 * Settles like `promise`, or rejects with `Error("<what>: no answer within <timeout> ms")` once `timeout`
 * ms have passed first. The timer is cleared as soon as either side settles.
 *
 * @example
 * await withTimeout(connection.drain(), 2_000, 'NATS drain').catch(() => undefined);
 */
export function withTimeout<T>(promise: Promise<T>, timeout: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeout} ms`)), timeout);
    }),
  ]).finally(() => clearTimeout(timer));
}
