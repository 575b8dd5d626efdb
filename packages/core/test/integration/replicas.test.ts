/**
 * Replicas of a process behind the client-side balancer: calls spread over every replica, a replica
 * that goes away is taken out without failing calls (idempotent ones go to another replica; any call
 * goes to another replica when the first never ran), and readiness lists each replica — over each RPC
 * transport.
 */
import { describe, expect, it } from 'vitest';
import { getFreePortRange } from '../../../../test/harness/index.js';
import { appStarter } from '../../../../test/harness/started-apps.js';
import { Echo, echoApp, echoTopology, servedBy } from './fixtures/echo-app.js';

const started = appStarter();

describe.each(['http', 'tcp'] as const)('replicas behind the client-side balancer, %s', (rpc) => {
  /** Three replicas of `echo` on consecutive free ports, and a caller. */
  async function start() {
    const base = await getFreePortRange(3);
    const topology = echoTopology(base, { rpc });
    const replicas = [];
    for (let replica = 0; replica < 3; replica++) {
      replicas.push(await started(echoApp, { topology, process: 'echoes', replica }));
    }
    const front = await started(echoApp, { topology, process: 'front' });
    return { replicas, front, base };
  }

  it('listens each replica on its own port and spreads calls over all of them', async () => {
    const { replicas, front, base } = await start();
    expect(replicas.map((r) => r.rpcUrl)).toEqual([0, 1, 2].map((i) => `${rpc}://127.0.0.1:${base + i}`));
    const echo = front.client(Echo);
    await Promise.all(Array.from({ length: 90 }, (_, n) => echo.where({ n })));
    const counts = await Promise.all(replicas.map(servedBy));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(90);
    for (const count of counts) expect(count).toBeGreaterThan(5);
  });

  it('fails no idempotent call while a replica goes away, and stops sending it calls', async () => {
    const { replicas, front } = await start();
    const echo = front.client(Echo);
    const calls: Promise<unknown>[] = [];
    for (let n = 0; n < 60; n++) {
      calls.push(echo.where({ n }));
      if (n === 20) await replicas[1]!.stop();
    }
    const results = await Promise.allSettled(calls);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const after = await servedBy(replicas[1]!);
    await Promise.all(Array.from({ length: 40 }, (_, n) => echo.where({ n })));
    expect(await servedBy(replicas[1]!)).toBe(after);
  });

  it('sends a non-idempotent call to another replica only when the first never ran it', async () => {
    const { replicas, front } = await start();
    await replicas[0]!.stop();
    await replicas[2]!.stop();
    const echo = front.client(Echo);
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, n) => echo.record({ n })));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
  });

  it('reports each replica in readiness, as information that does not fail the caller', async () => {
    const { replicas, front } = await start();
    await replicas[2]!.stop();
    const report = await front.readiness();
    const check = report.checks['rpc:echo'] as {
      ok: boolean;
      details: { replicas: { url: string; ok: boolean }[] };
    };
    expect(check.ok).toBe(true);
    expect(check.details.replicas.map((r) => r.ok)).toEqual([true, true, false]);
  });
});
