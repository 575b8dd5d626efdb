// #region suite
import { createApp } from '@blueprint/core';
import { conformanceApp, describeRpcConformance } from '@blueprint/core/testing';

describeRpcConformance('my transport', async () => {
  const server = await createApp(conformanceApp, { topology, process: 'server' });
  await server.start();
  const caller = await createApp(conformanceApp, {
    topology,
    process: 'caller',
    addresses: { server: server.rpcUrl! },
  });
  await caller.start();
  return {
    client: caller.client,
    close: async () => {
      await caller.stop();
      await server.stop();
    },
  };
});
// #endregion suite

// The topology of the two processes (the setup runs later, when vitest runs the suite).
const topology = {
  app: 'src/app.ts',
  rpc: { type: 'http' },
  auth: 'none',
  processes: {
    server: { services: ['conformance'], address: 'http://127.0.0.1:0' },
    caller: { services: [] },
  },
};
