/**
 * The `local` RPC driver: every service a process calls is hosted in that process. The default of a
 * topology without an `rpc` section, and the only choice of a monolith that never splits.
 */
import { z } from 'zod';
import { TopologyError } from '../errors.js';
import { defineDriver } from '../transport/drivers.js';
import type { RpcTransport } from './types.js';

/** Options of the `local` driver: none besides the local-call checks every `rpc` section has. */
export const localRpcSchema = z.strictObject({ type: z.literal('local') });

const refuse = (what: string): never => {
  throw new TopologyError(`rpc "local" cannot ${what}; use a transport that crosses processes, e.g. "http"`);
};

/** The `local` RPC driver. */
export const localRpc = defineDriver({
  type: 'local',
  schema: localRpcSchema,
  create: (): RpcTransport => ({
    crossesProcesses: false,
    connect: (target) => refuse(`reach process "${target.process}"`),
    listen: () => refuse('serve calls from other processes'),
  }),
});
