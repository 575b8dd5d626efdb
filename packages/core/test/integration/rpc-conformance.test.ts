import { describeRpcConformance } from '@blueprint/core/testing';
import { childServerSetup, inProcessSetup } from './fixtures/conformance-setups.js';
import { httpConformanceTopology } from './fixtures/conformance-topology.js';

describeRpcConformance('http, server and caller in this process', inProcessSetup(httpConformanceTopology), {
  hidesInternal: true,
});

describeRpcConformance(
  'http, server in a child process (tsx, no build)',
  childServerSetup(httpConformanceTopology),
  { hidesInternal: true },
);
