import { type BlueprintApp, createApp } from '@blueprint/core';
import { conformanceApp, describeRpcConformance } from '@blueprint/core/testing';
import { expect } from 'vitest';
import { tcpConformanceTopology } from './fixtures/conformance-topology.js';
import { spawnTsx } from './fixtures/spawn-tsx.js';

async function caller(
  serverUrl: string,
  topology: Record<string, unknown> = tcpConformanceTopology,
): Promise<BlueprintApp> {
  const app = await createApp(conformanceApp, {
    topology,
    process: 'caller',
    addresses: { server: serverUrl },
  });
  await app.start();
  return app;
}

describeRpcConformance(
  'tcp, server and caller in this process',
  async () => {
    const server = await createApp(conformanceApp, { topology: tcpConformanceTopology, process: 'server' });
    await server.start();
    expect(server.rpcUrl).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const app = await caller(server.rpcUrl!);
    return {
      client: app.client,
      close: async () => {
        await app.stop();
        await server.stop();
      },
    };
  },
  { hidesInternal: true },
);

describeRpcConformance(
  'tcp, server in a child process (tsx, no build)',
  async () => {
    const child = spawnTsx(new URL('./fixtures/conformance-server.ts', import.meta.url), {
      CONFORMANCE_TRANSPORT: 'tcp',
    });
    try {
      const { url } = JSON.parse(await child.firstLine) as { url: string };
      const app = await caller(url);
      return {
        client: app.client,
        close: async () => {
          await app.stop();
          expect(await child.stop()).toBe(0);
        },
      };
    } catch (error) {
      await child.stop();
      throw error;
    }
  },
  { hidesInternal: true },
);

describeRpcConformance(
  'tcp with service auth and two connections per replica',
  async () => {
    const topology = {
      ...tcpConformanceTopology,
      rpc: { type: 'tcp', timeout: '10s', connections: 2 },
      auth: { secret: 'a-test-secret-that-is-long-enough-0123456789' },
    };
    const server = await createApp(conformanceApp, { topology, process: 'server' });
    await server.start();
    const app = await caller(server.rpcUrl!, topology);
    return {
      client: app.client,
      close: async () => {
        await app.stop();
        await server.stop();
      },
    };
  },
  { hidesInternal: true },
);
