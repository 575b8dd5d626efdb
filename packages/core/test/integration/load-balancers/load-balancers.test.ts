/**
 * Replicas of a Blueprint process behind a real NGINX and a real HAProxy: callers know one address (the
 * load balancer), calls spread over the replicas, and a replica that goes away fails no idempotent call.
 */
import { randomBytes } from 'node:crypto';
import type { BlueprintApp } from '@blueprint/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  getFreePort,
  type ProxyHandle,
  startHaproxy,
  startNginx,
  waitFor,
} from '../../../../../test/harness/index.js';
import { appStarter } from '../../../../../test/harness/started-apps.js';
import { Echo, echoApp, servedCounter } from '../fixtures/echo-app.js';
import { haproxyConfig, nginxConfig } from './configs.js';

const secret = randomBytes(32).toString('base64url');
const started = appStarter({ ignoreStopErrors: true });

/** Three replicas listening on `ports`; the topology's address is the load balancer's. */
async function replicasBehind(balancerPort: number, ports: readonly number[]) {
  const topology = {
    app: './echo-app.js',
    rpc: { type: 'http', timeout: '3s' },
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a topology placeholder, filled from the environment
    auth: { secret: '${SERVICE_SECRET}' },
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a topology placeholder, filled from the environment
    drainDelay: '${DRAIN_DELAY:-0s}',
    processes: {
      echoes: {
        services: ['echo'],
        address: `http://127.0.0.1:${balancerPort}`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a topology placeholder, filled from the environment
        listen: { host: '127.0.0.1', port: '${PORT}' },
      },
      front: { services: ['front'] },
    },
  };
  const replicas: BlueprintApp[] = [];
  for (const port of ports) {
    const env = { SERVICE_SECRET: secret, PORT: String(port), DRAIN_DELAY: '300ms' };
    replicas.push(await started(echoApp, { topology, process: 'echoes', env }));
  }
  const front = await started(echoApp, {
    topology,
    process: 'front',
    env: { SERVICE_SECRET: secret, PORT: '0' },
  });
  return { replicas, front };
}

const served = servedCounter('where');

type Setup = Omit<Parameters<typeof nginxConfig>[0], 'host' | 'port'>;
const balancers: Record<string, (setup: Setup) => Promise<ProxyHandle>> = {
  nginx: (setup) => startNginx({ config: ({ host, port }) => nginxConfig({ ...setup, host, port }) }),
  haproxy: (setup) => startHaproxy({ config: ({ host, port }) => haproxyConfig({ ...setup, host, port }) }),
};

describe.each(Object.keys(balancers))('three replicas behind %s', (name) => {
  let balancer: ProxyHandle | undefined;
  afterAll(async () => {
    await balancer?.stop();
  });

  async function start() {
    const ports = [await getFreePort(), await getFreePort(), await getFreePort()];
    await balancer?.stop();
    balancer = await balancers[name]!({
      replicas: ports.map((p) => `127.0.0.1:${p}`),
      idempotentPaths: ['/rpc/echo/where'],
    });
    const shop = await replicasBehind(balancer.port, ports);
    const echo = shop.front.client(Echo);
    // Until the load balancer sends calls to every replica (haproxy's first health checks ran before they listened).
    await waitFor(
      async () => {
        await Promise.all(Array.from({ length: 6 }, (_, n) => echo.where({ n }).catch(() => 'down')));
        return (await Promise.all(shop.replicas.map(served))).every((count) => count > 0);
      },
      { timeout: 10_000, message: `${name} to pass calls to every replica` },
    );
    return { ...shop, echo };
  }

  it('spreads authenticated calls over the replicas', async () => {
    const { replicas, echo } = await start();
    const before = await Promise.all(replicas.map(served));
    // Ten at a time: least-connections balancing spreads concurrent calls.
    for (let batch = 0; batch < 6; batch++) {
      await Promise.all(Array.from({ length: 10 }, (_, n) => echo.where({ n })));
    }
    const counts = (await Promise.all(replicas.map(served))).map((count, i) => count - before[i]!);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(60);
    for (const count of counts) expect(count).toBeGreaterThan(3);
  });

  it('fails no idempotent call while a replica drains and goes away', async () => {
    const { replicas, echo } = await start();
    const calls: Promise<unknown>[] = [];
    let stopping: Promise<void> | undefined;
    for (let n = 0; n < 120; n++) {
      calls.push(echo.where({ n }));
      if (n === 30) stopping = replicas[0]!.stop();
      if (n % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await stopping;
    for (let n = 0; n < 40; n++) calls.push(echo.where({ n }));
    const results = await Promise.allSettled(calls);
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
    ).toEqual([]);
  });
});
