/**
 * Private memcached servers shared by the tests of one file: started while the file loads, stopped after
 * its last test.
 */
import { afterAll } from 'vitest';
import { type MemcachedHandle, startMemcached } from './servers.js';

/** A tuple of `N` elements of type `T`. */
type Tuple<N extends number, T, Acc extends T[] = []> = Acc['length'] extends N
  ? Acc
  : Tuple<N, T, [...Acc, T]>;

/**
 * Starts `count` private memcached servers and stops them after the last test of the calling file. Await
 * it at the top level of a test file.
 *
 * @example
 * const [one, two] = await memcachedForFile(2);
 */
export async function memcachedForFile<N extends number>(count: N): Promise<Tuple<N, MemcachedHandle>> {
  const servers = await Promise.all(Array.from({ length: count }, () => startMemcached()));
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });
  return servers as Tuple<N, MemcachedHandle>;
}
