import { describeRpcConformance } from '@blueprint/core/testing';
import { expect } from 'vitest';
import { childServerSetup, inProcessSetup } from './fixtures/conformance-setups.js';
import { tcpConformanceTopology } from './fixtures/conformance-topology.js';

describeRpcConformance(
  'tcp, server and caller in this process',
  inProcessSetup(tcpConformanceTopology, (server) => {
    expect(server.rpcUrl).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
  }),
  { hidesInternal: true },
);

describeRpcConformance(
  'tcp, server in a child process (tsx, no build)',
  childServerSetup(tcpConformanceTopology, { CONFORMANCE_TRANSPORT: 'tcp' }),
  { hidesInternal: true },
);

describeRpcConformance(
  'tcp with service auth and two connections per replica',
  inProcessSetup({
    ...tcpConformanceTopology,
    rpc: { type: 'tcp', timeout: '10s', connections: 2 },
    auth: { secret: 'a-test-secret-that-is-long-enough-0123456789' },
  }),
  { hidesInternal: true },
);
