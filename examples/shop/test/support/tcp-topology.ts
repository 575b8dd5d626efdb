/**
 * The split shop over the `tcp` RPC transport: topology/split.json with `"rpc": { "type": "tcp" }` and
 * `tcp://` addresses, everything else (processes, replicas, ports, auth, events, cache, policies) as in
 * the file, so the scenario suite runs the same topology on the other transport.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type SplitOptions, type SplitShop, startSplit, TOPOLOGY } from './shop-under-test.js';

/** Writes topology/split.json over tcp into `dir` and resolves to the file's path. */
export async function writeTcpSplitTopology(dir: string): Promise<string> {
  const topology = JSON.parse(await readFile(TOPOLOGY.split, 'utf8')) as {
    app: string;
    rpc: Record<string, unknown>;
    processes: Record<string, { address?: string }>;
  };
  topology.app = path.resolve(path.dirname(TOPOLOGY.split), topology.app);
  topology.rpc = { ...topology.rpc, type: 'tcp' };
  for (const entry of Object.values(topology.processes)) {
    if (entry.address !== undefined) entry.address = entry.address.replace(/^http:\/\//, 'tcp://');
  }
  const file = path.join(dir, 'split-tcp.json');
  await writeFile(file, JSON.stringify(topology, null, 2));
  return file;
}

/** Starts the split shop over tcp RPC (see {@link startSplit}); `stop()` also removes the topology file. */
export async function startSplitOverTcp(redisUrl: string, options: SplitOptions = {}): Promise<SplitShop> {
  const dir = await mkdtemp(path.join(tmpdir(), 'blueprint-shop-tcp-'));
  try {
    const shop = await startSplit(redisUrl, { ...options, topologyFile: await writeTcpSplitTopology(dir) });
    return {
      ...shop,
      async stop() {
        await shop.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
