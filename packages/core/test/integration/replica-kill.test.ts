/**
 * Three replicas in their own processes, 64 idempotent calls in flight, one replica killed with SIGKILL:
 * no call fails, and the survivors take the load.
 */
import { type BlueprintApp, createApp } from '@blueprint/core';
import { afterEach, describe, expect, it } from 'vitest';
import { getFreePortRange } from '../../../../test/harness/index.js';
import { Echo, echoApp, echoTopology } from './fixtures/echo-app.js';
import { spawnTsx, type TsxChild } from './fixtures/spawn-tsx.js';

const children: TsxChild[] = [];
let caller: BlueprintApp | undefined;
afterEach(async () => {
  await caller?.stop();
  await Promise.all(children.splice(0).map((child) => child.stop()));
});

describe('a replica killed under load', () => {
  it('fails no idempotent call of 64 in flight', async () => {
    const base = await getFreePortRange(3);
    for (let replica = 0; replica < 3; replica++) {
      const child = spawnTsx(new URL('./fixtures/replica-server.ts', import.meta.url), {
        BASE_PORT: String(base),
        REPLICA: String(replica),
      });
      children.push(child);
    }
    await Promise.all(children.map((child) => child.firstLine));
    caller = await createApp(echoApp, {
      topology: echoTopology(base, { timeout: '5s' }),
      process: 'front',
      logDestination: { write: () => undefined },
    });
    await caller.start();
    const echo = caller.client(Echo);
    const victim = children[1]!.child.pid!;
    const pids = new Map<number, number>();
    let failures = 0;
    let calls = 0;
    let killed = false;
    const worker = async () => {
      while (calls < 3_000) {
        calls++;
        if (calls === 600 && !killed) {
          killed = true;
          children[1]!.child.kill('SIGKILL');
        }
        try {
          const { pid } = await echo.where({ n: calls });
          pids.set(pid, (pids.get(pid) ?? 0) + 1);
        } catch {
          failures++;
        }
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    expect(failures).toBe(0);
    expect(killed).toBe(true);
    expect([...pids.keys()].filter((pid) => pid !== victim)).toHaveLength(2);
    const survivors = [...pids.entries()]
      .filter(([pid]) => pid !== victim)
      .reduce((sum, [, n]) => sum + n, 0);
    expect(survivors).toBeGreaterThan(2_000);
  });
});
