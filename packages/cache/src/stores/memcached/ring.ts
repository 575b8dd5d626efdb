/**
 * A consistent-hash ring (ketama-style) that spreads keys over memcached servers: each server owns
 * {@link POINTS_PER_SERVER} points on a 32-bit circle, and a key belongs to the server of the first point
 * at or after the key's hash. Adding a server moves only the keys that fall just before its points (about
 * `1 / servers` of them), all to the new server; removing one moves only its own keys.
 *
 * Every process of an app must build the ring from the same server list to agree on where a key lives;
 * the order of the list does not matter.
 */

/** Points each server owns on the ring: enough for an even spread (about ±10 % for a few servers). */
export const POINTS_PER_SERVER = 160;

/** A 32-bit hash of a string: FNV-1a over its UTF-16 code units, then murmur3's finalizer (avalanche). */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Which server a key lives on. */
export class HashRing {
  /** The servers, in the order given. */
  readonly servers: readonly string[];
  private readonly points: Uint32Array;
  private readonly owners: Uint16Array;

  /** Builds the ring of `servers` (`host:port` addresses; duplicates are an error). */
  constructor(servers: readonly string[]) {
    if (servers.length === 0) throw new Error('a hash ring needs at least one server');
    if (new Set(servers).size !== servers.length) throw new Error('a server is listed twice');
    this.servers = [...servers];
    const entries: [point: number, owner: number][] = [];
    servers.forEach((server, owner) => {
      for (let i = 0; i < POINTS_PER_SERVER; i++) entries.push([hash32(`${server}-${i}`), owner]);
    });
    // Ties (two servers on one point) go to the server that sorts first, so every process agrees.
    entries.sort((a, b) => a[0] - b[0] || servers[a[1]]!.localeCompare(servers[b[1]]!));
    this.points = Uint32Array.from(entries, (entry) => entry[0]);
    this.owners = Uint16Array.from(entries, (entry) => entry[1]);
  }

  /** The index (in {@link servers}) of the server that holds `key`. */
  indexOf(key: string): number {
    if (this.servers.length === 1) return 0;
    const points = this.points;
    const target = hash32(key);
    let low = 0;
    let high = points.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (points[middle]! < target) low = middle + 1;
      else high = middle;
    }
    return this.owners[low === points.length ? 0 : low]!;
  }

  /** The address of the server that holds `key`. */
  serverFor(key: string): string {
    return this.servers[this.indexOf(key)]!;
  }
}
