import { type BlueprintApp, createApp } from '@blueprint/core';
import { conformanceApp, describeRpcConformance } from '@blueprint/core/testing';
import { expect } from 'vitest';
import { httpConformanceTopology } from './fixtures/conformance-topology.js';
import { spawnTsx } from './fixtures/spawn-tsx.js';

async function caller(serverUrl: string): Promise<BlueprintApp> {
  const app = await createApp(conformanceApp, {
    topology: httpConformanceTopology,
    process: 'caller',
    addresses: { server: serverUrl },
  });
  await app.start();
  return app;
}

describeRpcConformance(
  'http, server and caller in this process',
  async () => {
    const server = await createApp(conformanceApp, { topology: httpConformanceTopology, process: 'server' });
    await server.start();
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
  'http, server in a child process (tsx, no build)',
  async () => {
    const child = spawnTsx(new URL('./fixtures/conformance-server.ts', import.meta.url));
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
