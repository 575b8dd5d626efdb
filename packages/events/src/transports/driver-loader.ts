/** Loading a broker transport's client library, an optional peer dependency, only when it is needed. */
import { EventsError } from '../errors.js';

/**
 * Returns a function that imports a transport's client library on first call and shares that import,
 * so apps on other transports never load it. A failed import is forgotten (the next call tries again)
 * and rejects with `EVENTS_DRIVER_MISSING` naming the package to install.
 *
 * @example
 * const loadNats = driverLoader('nats', 'nats', () => import('nats'));
 */
export function driverLoader<T>(transport: string, pkg: string, load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw new EventsError(
        'EVENTS_DRIVER_MISSING',
        `the ${transport} transport needs the "${pkg}" package: npm install ${pkg}`,
        { cause: error },
      );
    });
    return loading;
  };
}
