import { describe, expect, it } from 'vitest';
import type { HealthCheckResult } from '../../app/health.js';
import type { RpcClient } from '../types.js';
import { ReplicaSet } from './replica-set.js';

function client(live: () => boolean = () => true): RpcClient & { pings: number } {
  const c = {
    pings: 0,
    call: async () => 'ok',
    async ping(): Promise<HealthCheckResult> {
      c.pings++;
      return { ok: live() };
    },
    close: async () => undefined,
  };
  return c;
}

function setOf(count: number, options: ConstructorParameters<typeof ReplicaSet>[1] = {}) {
  const clients = Array.from({ length: count }, () => client());
  return {
    set: new ReplicaSet(
      clients.map((c, i) => ({ url: `http://r${i}`, client: c })),
      options,
    ),
    clients,
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('ReplicaSet', () => {
  it('of two random replicas picks the one with fewer calls in flight', () => {
    const sequence = [0, 0.25];
    let n = 0;
    const { set } = setOf(3, { random: () => sequence[n++ % 2]! });
    set.replicas[0]!.inFlight = 5;
    set.replicas[1]!.inFlight = 1;
    expect(set.pick()!.url).toBe('http://r1');
  });

  it('spreads calls over every healthy replica', () => {
    const { set } = setOf(3);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(set.pick()!.url);
    expect(seen).toEqual(new Set(['http://r0', 'http://r1', 'http://r2']));
  });

  it('takes a replica out after consecutive transport failures, at once for a refused connection', () => {
    let now = 1_000;
    const { set } = setOf(3, { now: () => now });
    const [a, b] = set.replicas as [
      NonNullable<(typeof set.replicas)[0]>,
      NonNullable<(typeof set.replicas)[0]>,
    ];
    set.failed(a);
    expect(a.state).toBe('healthy');
    set.failed(a);
    expect(a.state).toBe('ejected');
    set.failed(b, true);
    expect(b.state).toBe('ejected');
    for (let i = 0; i < 50; i++) expect(set.pick()!.url).toBe('http://r2');
    now += 100;
    expect(a.ejectedUntil).toBe(1_000 + 1_000);
  });

  it('probes an ejected replica once its cool-off passed and brings it back when it is live', async () => {
    let now = 0;
    let live = false;
    const clients = [client(() => live), client()];
    const set = new ReplicaSet(
      clients.map((c, i) => ({ url: `http://r${i}`, client: c })),
      { now: () => now },
    );
    const first = set.replicas[0]!;
    set.failed(first, true);
    now = 1_001;
    set.pick();
    expect(first.state).toBe('probing');
    await flush();
    expect(first.state).toBe('ejected');
    expect(first.ejectedUntil).toBe(1_001 + 2_000);
    now = 3_002;
    live = true;
    set.pick();
    await flush();
    expect(first.state).toBe('healthy');
    expect(clients[0]!.pings).toBe(2);
  });

  it('tries the replica due back first when every replica is out, and never picks an excluded one', () => {
    let now = 0;
    const { set } = setOf(2, { now: () => now });
    set.failed(set.replicas[1]!, true);
    now = 10;
    set.failed(set.replicas[0]!, true);
    expect(set.pick()!.url).toBe('http://r1');
    expect(set.pick(set.replicas[1])!.url).toBe('http://r0');
  });

  it('reports every replica in its liveness details', async () => {
    const clients = [client(), client(() => false)];
    const set = new ReplicaSet(clients.map((c, i) => ({ url: `http://r${i}`, client: c })));
    expect(await set.ping()).toEqual({
      ok: true,
      details: {
        replicas: [
          { url: 'http://r0', state: 'healthy', ok: true },
          { url: 'http://r1', state: 'healthy', ok: false },
        ],
      },
    });
  });
});
