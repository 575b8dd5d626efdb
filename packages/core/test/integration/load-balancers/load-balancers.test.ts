/**
 * Replicas of a Blueprint process behind a real NGINX and a real HAProxy: callers know one address (the
 * load balancer), calls spread over the replicas, and a replica that goes away fails no idempotent call.
 */
import { randomBytes } from 'node:crypto';
import {
  type BlueprintApp,
  type CallContext,
  type ClientOf,
  createApp,
  defineApp,
  defineService,
  inject,
  injectable,
  service,
} from '@blueprint/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  getFreePort,
  type ProxyHandle,
  startHaproxy,
  startNginx,
  waitFor,
} from '../../../../../test/harness/index.js';
import { haproxyConfig, nginxConfig } from './configs.js';

const Echo = defineService('echo', {
  where: { input: z.object({ n: z.number() }), output: z.string(), idempotent: true },
});
const Front = defineService('front', { noop: { input: z.void(), output: z.void() } });

@injectable()
class EchoService {
  async where(_input: { n: number }, _context?: CallContext) {
    return 'ok';
  }
}
@injectable()
class FrontService {
  constructor(@inject(Echo.token) readonly echo: ClientOf<typeof Echo>) {}
  async noop() {}
}

const app = defineApp({
  name: 'balanced',
  services: [service(Echo, EchoService), service(Front, FrontService)],
});
const quiet = { write: () => undefined };
const secret = randomBytes(32).toString('base64url');
const running: BlueprintApp[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.stop().catch(() => undefined)));
});

/** Three replicas listening on `ports`; the topology's address is the load balancer's. */
async function replicasBehind(balancerPort: number, ports: readonly number[]) {
  const topology = {
    app: './balanced.js',
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
    const replica = await createApp(app, {
      topology,
      process: 'echoes',
      env: { SERVICE_SECRET: secret, PORT: String(port), DRAIN_DELAY: '300ms' },
      logDestination: quiet,
    });
    running.push(replica);
    await replica.start();
    replicas.push(replica);
  }
  const front = await createApp(app, {
    topology,
    process: 'front',
    env: { SERVICE_SECRET: secret, PORT: '0' },
    logDestination: quiet,
  });
  running.push(front);
  await front.start();
  return { replicas, front };
}

const served = async (replica: BlueprintApp) => {
  const text = await replica.metrics();
  const found =
    /blueprint_rpc_server_requests_total\{service="echo",method="where",code="OK"[^}]*\} (\d+)/.exec(text);
  return Number(found?.[1] ?? 0);
};

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
