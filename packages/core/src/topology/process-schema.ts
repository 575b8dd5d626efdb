/**
 * One entry of a topology's `processes`: the services it hosts, where other processes call it (one
 * address, several replicas, or an external load balancer), who may call it, and where it listens.
 */
import { z } from 'zod';
import { countSchema, portSchema } from '../units.js';
import { tlsSectionSchema } from './security-schema.js';

/**
 * The address of a process: an `http://` or `https://` URL (the `http` transport), or `tcp://` or
 * `tcps://` (the `tcp` transport, which needs a port), with a host and a port from 0 to 65535; the
 * error names what is wrong with it.
 */
export const addressSchema = z
  .string({ error: 'invalid address: use a URL like "http://127.0.0.1:4001"' })
  .check((ctx) => {
    const value = ctx.value;
    const fail = (message: string) => ctx.issues.push({ code: 'custom', message, input: value });
    if (!value.includes('://')) {
      fail(`invalid address ${JSON.stringify(value)}: it has no scheme; write "http://${value}"`);
      return;
    }
    const port = /^[a-z][a-z0-9+.-]*:\/\/(?:\[[^\]]*\]|[^/:?#]*):(\d+)/i.exec(value)?.[1];
    if (port !== undefined && Number(port) > 65535) {
      fail(
        `invalid address ${JSON.stringify(value)}: port ${port} is out of range; use a port from 0 to 65535 (0 picks a free one)`,
      );
      return;
    }
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      fail(`invalid address ${JSON.stringify(value)}: use a URL like "http://127.0.0.1:4001"`);
      return;
    }
    const tcp = url.protocol === 'tcp:' || url.protocol === 'tcps:';
    if (url.protocol !== 'http:' && url.protocol !== 'https:' && !tcp) {
      fail(
        `invalid address ${JSON.stringify(value)}: the scheme must be http://, https://, tcp:// or tcps://, not ${url.protocol}//`,
      );
    } else if (url.hostname === '') {
      fail(`invalid address ${JSON.stringify(value)}: name a host, e.g. "http://127.0.0.1:4001"`);
    } else if (tcp && url.port === '') {
      fail(
        `invalid address ${JSON.stringify(value)}: a ${url.protocol}// address needs a port, e.g. "tcp://127.0.0.1:4001"`,
      );
    } else if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
      fail(`invalid address ${JSON.stringify(value)}: give the base URL only (no path, query or fragment)`);
    }
  });

/** One entry of `processes`. */
export const processSchema = z.strictObject({
  /** Names of the services this process hosts. */
  services: z.array(z.string()),
  /**
   * Base URL other processes use to call this one (`http` RPC), e.g. `"http://127.0.0.1:${PRODUCTS_PORT:-4001}"`.
   * Required for a process that hosts services with methods under `http` RPC.
   */
  address: addressSchema.optional(),
  /**
   * The replicas of this process on several hosts, each called at its own address, e.g.
   * `["http://10.0.0.1:4001", "http://10.0.0.2:4001"]`. Callers balance over them. Instead of `address`.
   */
  addresses: z.array(addressSchema).min(1, 'list at least one address').optional(),
  /**
   * Replicas on consecutive ports from `address`'s port, as `blueprint dev` starts them: `3` with
   * `http://127.0.0.1:4001` means 4001, 4002 and 4003. Default: 1.
   */
  replicas: countSchema
    .refine((n) => n >= 1 && n <= 64, { message: 'use a whole number from 1 to 64' })
    .optional(),
  /**
   * The processes allowed to call this one; any other caller gets `FORBIDDEN` (403). Needs `auth`.
   * Default: every process of the topology.
   */
  callers: z.array(z.string()).optional(),
  /** Where the RPC server binds, when it differs from `address` (e.g. `{ "host": "0.0.0.0" }`). */
  listen: z.strictObject({ host: z.string().optional(), port: portSchema.optional() }).optional(),
  /** This process's certificates, when they differ from the top-level `tls` section. */
  tls: tlsSectionSchema.optional(),
});

/** A parsed entry of `processes`. */
export type ProcessEntry = z.output<typeof processSchema>;

/**
 * The addresses of a process's replicas: `addresses` as listed, or `replicas` consecutive ports from
 * `address`'s port, or the one `address` (which may be a load balancer in front of several). Empty when
 * the process has no address.
 *
 * @example
 * replicaAddresses({ services: [], address: 'http://127.0.0.1:4001', replicas: 3 })
 * // ['http://127.0.0.1:4001', 'http://127.0.0.1:4002', 'http://127.0.0.1:4003']
 */
export function replicaAddresses(entry: ProcessEntry): string[] {
  if (entry.addresses !== undefined) return [...entry.addresses];
  if (entry.address === undefined) return [];
  const count = entry.replicas ?? 1;
  if (count <= 1) return [entry.address];
  const url = new URL(entry.address);
  const first = Number(url.port);
  return Array.from({ length: count }, (_, index) => {
    const replica = new URL(entry.address!);
    replica.port = String(first + index);
    // `origin` is "null" for schemes URL does not know (tcp://): build it from its parts.
    return `${replica.protocol}//${replica.host}`;
  });
}
