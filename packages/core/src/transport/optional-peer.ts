/**
 * Heavy client libraries (ioredis, nats, a Kafka client, memjs, ...) are optional peer dependencies,
 * imported only when a topology selects the driver that needs them.
 */
import type { CodedErrorClass } from '../errors.js';

/**
 * Returns a function that imports a client library on first call and shares that import, so apps on
 * other drivers never load it. A failed import is forgotten (the next call tries again) and rejects with
 * `error` (the package's `*_DRIVER_MISSING` class) naming the package to install.
 *
 * @example
 * const loadNats = optionalPeer({ pkg: 'nats', needed: 'the nats event transport', error: EventsDriverMissingError }, () => import('nats'));
 */
export function optionalPeer<T>(
  options: {
    /** The npm package, e.g. `ioredis`. */
    readonly pkg: string;
    /** What needs it, for the message: `the "redis" cache store`. */
    readonly needed: string;
    /** The coded error class to reject with. */
    readonly error: CodedErrorClass;
  },
  load: () => Promise<T>,
): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((cause: unknown) => {
      loading = undefined;
      throw new options.error(
        `${options.needed} needs the "${options.pkg}" package, which is not installed: npm install ${options.pkg}`,
        { cause, details: { package: options.pkg } },
      );
    });
    return loading;
  };
}
