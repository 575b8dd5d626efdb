import { describe, expect, it } from 'vitest';
import { HashRing, hash32 } from './ring.js';

const keys = Array.from({ length: 20_000 }, (_, i) => `products:get:{"id":"p${i}"}`);

function placement(ring: HashRing): Map<string, string> {
  return new Map(keys.map((key) => [key, ring.serverFor(key)]));
}

describe('HashRing', () => {
  it('puts every key on the one server when there is one', () => {
    const ring = new HashRing(['127.0.0.1:11211']);
    expect(new Set(keys.map((key) => ring.serverFor(key)))).toEqual(new Set(['127.0.0.1:11211']));
  });

  it('spreads keys evenly over several servers', () => {
    const servers = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211', '10.0.0.4:11211'];
    const counts = new Map<string, number>();
    for (const server of placement(new HashRing(servers)).values()) {
      counts.set(server, (counts.get(server) ?? 0) + 1);
    }
    const share = keys.length / servers.length;
    for (const server of servers) {
      expect(counts.get(server)).toBeGreaterThan(share * 0.8);
      expect(counts.get(server)).toBeLessThan(share * 1.2);
    }
  });

  it('does not depend on the order of the server list', () => {
    const a = placement(new HashRing(['a:1', 'b:1', 'c:1']));
    const b = placement(new HashRing(['c:1', 'a:1', 'b:1']));
    expect(b).toEqual(a);
  });

  it('moves only the new server’s share of keys when a server is added, all to it', () => {
    const before = placement(new HashRing(['a:11211', 'b:11211', 'c:11211']));
    const after = placement(new HashRing(['a:11211', 'b:11211', 'c:11211', 'd:11211']));
    let moved = 0;
    for (const [key, server] of after) {
      if (server === before.get(key)) continue;
      moved++;
      expect(server).toBe('d:11211');
    }
    expect(moved / keys.length).toBeGreaterThan(0.25 * 0.75);
    expect(moved / keys.length).toBeLessThan(0.25 * 1.25);
  });

  it('moves only the keys of a removed server', () => {
    const before = placement(new HashRing(['a:11211', 'b:11211', 'c:11211']));
    const after = placement(new HashRing(['a:11211', 'c:11211']));
    for (const [key, server] of before) {
      if (server !== 'b:11211') expect(after.get(key)).toBe(server);
    }
  });

  it('refuses an empty list and a server listed twice', () => {
    expect(() => new HashRing([])).toThrow(/at least one server/);
    expect(() => new HashRing(['a:1', 'a:1'])).toThrow(/twice/);
  });

  it('hashes to unsigned 32-bit numbers with a stable value', () => {
    expect(hash32('')).toBe(hash32(''));
    expect(hash32('key')).not.toBe(hash32('kez'));
    for (const key of keys.slice(0, 100)) {
      const h = hash32(key);
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
    }
  });
});
