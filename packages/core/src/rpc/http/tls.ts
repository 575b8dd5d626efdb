/**
 * The PEM files of a process's `tls` section, read once when the process is built, so a missing or
 * unreadable file stops `createApp` with an error naming the key and the file rather than failing the
 * first call.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { TopologyError } from '../../errors.js';
import type { TlsTopology } from '../../topology/security-schema.js';
import type { Topology } from '../../topology.js';
import type { RpcTlsMaterial } from '../types.js';

const PEM = /-----BEGIN [A-Z0-9 ]+-----/;

/**
 * Reads the certificates of `process`: its own `tls` section, else the topology's top-level one, with
 * paths relative to the topology file's directory (`topology.baseDir`). Resolves to undefined when
 * neither section exists.
 *
 * @throws TopologyError naming each key whose file is missing, unreadable or not PEM.
 */
export async function readTlsMaterial(
  topology: Topology,
  process: string,
): Promise<RpcTlsMaterial | undefined> {
  const own = topology.processes[process]?.tls;
  const section = own ?? topology.tls;
  if (section === undefined) return undefined;
  const at = own === undefined ? 'topology.tls' : `topology.processes.${process}.tls`;
  const keys = [
    'ca',
    'cert',
    'key',
    'clientCert',
    'clientKey',
  ] as const satisfies readonly (keyof TlsTopology)[];
  const issues: { path: string; message: string }[] = [];
  const read = await Promise.all(
    keys.map(async (key) => {
      const named = section[key];
      if (named === undefined) return undefined;
      const file = path.resolve(topology.baseDir, named);
      try {
        const text = await readFile(file, 'utf8');
        if (!PEM.test(text)) {
          issues.push({ path: `${at}.${key}`, message: `${file} is not a PEM file (no "-----BEGIN" line)` });
        }
        return text;
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).message;
        issues.push({
          path: `${at}.${key}`,
          message: `cannot read ${file} (${code}); paths are relative to the topology file's directory (${topology.baseDir})`,
        });
        return undefined;
      }
    }),
  );
  if (issues.length > 0) {
    const lines = issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n');
    throw new TopologyError(`the TLS certificates of process "${process}" cannot be read:\n${lines}`, {
      details: { issues },
    });
  }
  const [ca, cert, key, clientCert, clientKey] = read;
  return {
    ca: ca!,
    cert: cert!,
    key: key!,
    ...(clientCert === undefined ? {} : { clientCert }),
    ...(clientKey === undefined ? {} : { clientKey }),
  };
}
