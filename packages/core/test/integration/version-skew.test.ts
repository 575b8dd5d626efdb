/**
 * Contract version skew, as a rolling update meets it: a caller built with v1 of `products` calls
 * servers of v2. Compatible changes pass silently (one log line per replica says so); a call that fails
 * because of an incompatible change fails with `CONTRACT_MISMATCH` naming both versions and the
 * difference, not with the validation error or missing method the server answered; and a replica set
 * with mixed versions keeps serving while it is rolled. Each runs on both RPC transports: `http` names the
 * served fingerprint in a header of every answer, `tcp` in a frame once per connection.
 */
import {
  type BlueprintApp,
  createApp,
  describeContract,
  hasErrorCode,
  isBlueprintError,
} from '@blueprint/core';
import { afterEach, describe, expect, it } from 'vitest';
import { getFreePortRange, waitFor } from '../../../../test/harness/index.js';
import { mintCredential } from '../../src/auth/credentials.js';
import { spawnTsx, type TsxChild } from './fixtures/spawn-tsx.js';
import {
  ProductsV1,
  ProductsV2Compatible,
  ProductsV2Incompatible,
  SKEW_SECRET,
  type SkewTransport,
  type SkewVersion,
  skewApps,
  skewTopology,
} from './fixtures/version-skew-app.js';

const running: BlueprintApp[] = [];
const children: TsxChild[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop()));
  await Promise.all(children.splice(0).map((child) => child.stop()));
});

const v1 = describeContract(ProductsV1);
const compatible = describeContract(ProductsV2Compatible);
const incompatible = describeContract(ProductsV2Incompatible);

/** The log lines of the version guard (component `contracts`), parsed. */
type SkewLine = { level: number; msg: string; url: string; server?: { version: number } };
function guardLines(logs: string[]): SkewLine[] {
  return logs.map((line) => JSON.parse(line)).filter((line) => line.component === 'contracts');
}

const TRANSPORTS: readonly SkewTransport[] = ['http', 'tcp'];

/** The v1 caller of the topology, in this process, with its log lines. */
async function startCaller(base: number, replicas = 1, transport: SkewTransport = 'http') {
  const logs: string[] = [];
  const caller = await createApp(skewApps.v1, {
    topology: skewTopology(base, replicas, transport),
    process: 'caller',
    logDestination: { write: (line) => logs.push(line) },
  });
  running.push(caller);
  await caller.start();
  return { products: caller.client(ProductsV1), logs };
}

/** A replica of `catalogue` serving `version`, in this process. */
async function startReplica(
  version: SkewVersion,
  base: number,
  replicas = 1,
  replica = 0,
  transport: SkewTransport = 'http',
) {
  const app = await createApp(skewApps[version], {
    topology: skewTopology(base, replicas, transport),
    process: 'catalogue',
    replica,
    logDestination: { write: () => undefined },
  });
  running.push(app);
  await app.start();
  return app;
}

/** A replica of `catalogue` serving `version` in a process of its own. */
async function spawnReplica(version: SkewVersion, base: number, transport: SkewTransport): Promise<string> {
  const child = spawnTsx(new URL('./fixtures/version-skew-server.ts', import.meta.url), {
    VERSION: version,
    BASE_PORT: String(base),
    TRANSPORT: transport,
  });
  children.push(child);
  return (JSON.parse(await child.firstLine) as { url: string }).url;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('the call was expected to fail');
}

describe.each(TRANSPORTS)('contract version skew between two processes (%s)', (transport) => {
  it('lets a compatible change pass, and logs the difference once per replica', async () => {
    const base = await getFreePortRange(1);
    const url = await spawnReplica('compatible', base, transport);
    const { products, logs } = await startCaller(base, 1, transport);

    // The v2 server answers a `name` v1 callers do not know: their output schema leaves it out.
    expect(await products.get({ id: 'p1' })).toEqual({ id: 'p1', priceCents: 1200 });
    await products.reserve({ id: 'p1', quantity: 2 });
    for (let i = 0; i < 5; i++) expect(await products.count()).toBe(3);

    await waitFor(() => guardLines(logs).length > 0, { message: 'the guard to log the new version' });
    const lines = guardLines(logs);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, url, server: { version: 2 } });
    expect(lines[0]!.msg).toBe(
      `${url} serves products v2 (${compatible.fingerprint}), this process has products v1 (${v1.fingerprint}): compatible`,
    );
  });

  it('fails a call that depends on an incompatible change with CONTRACT_MISMATCH naming both versions and the difference', async () => {
    const base = await getFreePortRange(1);
    const url = await spawnReplica('incompatible', base, transport);
    const { products, logs } = await startCaller(base, 1, transport);

    // A required input field the v1 caller does not send: the server refused the input.
    const get = await rejection(products.get({ id: 'p1' }));
    expect(hasErrorCode(get, 'CONTRACT_MISMATCH')).toBe(true);
    expect((get as Error).message).toBe(
      `products.get: this process calls products v1 (${v1.fingerprint}) but ${url} serves v2 (${incompatible.fingerprint}), and they are incompatible: get input.tenant: the server requires it, the caller does not send it. Finish the rolling update, or deploy a version compatible with both`,
    );
    expect((get as { details: unknown }).details).toEqual({
      service: 'products',
      method: 'get',
      url,
      caller: { version: 1, fingerprint: v1.fingerprint },
      server: { version: 2, fingerprint: incompatible.fingerprint },
      differences: ['get input.tenant: the server requires it, the caller does not send it'],
    });
    expect(hasErrorCode((get as Error).cause, 'VALIDATION_FAILED')).toBe(true);

    // A removed method: the server has no such method.
    const reserve = await rejection(products.reserve({ id: 'p1', quantity: 1 }));
    expect(hasErrorCode(reserve, 'CONTRACT_MISMATCH')).toBe(true);
    expect((reserve as { details: { differences: string[] } }).details.differences).toEqual([
      'reserve: the server has no such method',
    ]);
    expect(hasErrorCode((reserve as Error).cause, 'RPC_UNKNOWN_METHOD')).toBe(true);

    // A changed output type: the call ran, and its answer does not fit the caller's schema.
    const count = await rejection(products.count());
    expect(hasErrorCode(count, 'CONTRACT_MISMATCH')).toBe(true);
    expect((count as { details: { differences: string[] } }).details.differences).toEqual([
      'count output: the server returns string, the other side takes integer',
    ]);

    const lines = guardLines(logs);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, url, server: { version: 2 } });
    expect(lines[0]!.msg).toContain(
      'incompatible (get input.tenant: the server requires it, the caller does not send it; reserve: the server has no such method; count output: the server returns string, the other side takes integer)',
    );
  });

  it('keeps the error of a call that fails for a reason the versions do not explain', async () => {
    const base = await getFreePortRange(1);
    await startReplica('compatible', base, 1, 0, transport);
    const { products } = await startCaller(base, 1, transport);
    // The caller sends what neither version accepts: the server's refusal is the answer.
    const bad = await rejection(products.get({ id: 42 as unknown as string }));
    expect(isBlueprintError(bad) && bad.code).toBe('VALIDATION_FAILED');
    expect((bad as { details: { where: string } }).details.where).toBe('input');
  });
});

describe('contract version skew on the http wire (tcp: tcp-server.test.ts)', () => {
  it('sends each answer with the served fingerprint and nothing more while the versions match', async () => {
    const base = await getFreePortRange(1);
    const server = await startReplica('v1', base);
    const { products, logs } = await startCaller(base);
    for (let i = 0; i < 5; i++)
      expect(await products.get({ id: `p${i}` })).toMatchObject({ priceCents: 1200 });
    expect(guardLines(logs)).toEqual([]);

    const answer = await fetch(`${server.rpcUrl}/rpc/products/count`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-bp-credential': mintCredential({ current: SKEW_SECRET }, 'caller', 'catalogue', 5_000),
      },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-bp-contract')).toBe(v1.fingerprint);
  });

  it('answers the description only to an authenticated caller, and only for a hosted service', async () => {
    const base = await getFreePortRange(1);
    const server = await startReplica('incompatible', base);
    const ask = (path: string, credential?: string) =>
      fetch(`${server.rpcUrl}${path}`, { headers: credential ? { 'x-bp-credential': credential } : {} });
    const fresh = () => mintCredential({ current: SKEW_SECRET }, 'caller', 'catalogue', 5_000);

    const anonymous = await ask('/contracts/products');
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');

    const forged = await ask(
      '/contracts/products',
      mintCredential(
        { current: 'another-secret-that-is-long-enough-0123456789' },
        'caller',
        'catalogue',
        5_000,
      ),
    );
    expect(forged.status).toBe(401);

    const described = await ask('/contracts/products', fresh());
    expect(described.status).toBe(200);
    expect(described.headers.get('x-bp-contract')).toBe(incompatible.fingerprint);
    expect(await described.json()).toEqual(JSON.parse(JSON.stringify(incompatible)));

    for (const path of ['/contracts/orders', '/contracts/__proto__', '/contracts/%E0%A4%A', '/contracts/']) {
      const refused = await ask(path, fresh());
      expect(refused.status, path).toBe(404);
      const body = (await refused.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('RPC_UNKNOWN_METHOD');
      expect(body.error.message).not.toContain('orders');
    }
  });
});

describe.each(TRANSPORTS)('a replica set with mixed versions during a rolling update (%s)', (transport) => {
  it('fails no call while every replica moves to a compatible version', async () => {
    const base = await getFreePortRange(2);
    const replicas = [
      await startReplica('v1', base, 2, 0, transport),
      await startReplica('v1', base, 2, 1, transport),
    ];
    const { products, logs } = await startCaller(base, 2, transport);

    const failures: unknown[] = [];
    let calls = 0;
    let rolling = true;
    const client = async () => {
      while (rolling) {
        calls++;
        await products.get({ id: `p${calls}` }).catch((error: unknown) => failures.push(error));
      }
    };
    const clients = Array.from({ length: 8 }, client);
    try {
      for (const index of [1, 0]) {
        const before = calls;
        await waitFor(() => calls > before + 50, { message: 'calls to flow before the next replica rolls' });
        await replicas[index]!.stop();
        replicas[index] = await startReplica('compatible', base, 2, index, transport);
        const url = replicas[index]!.rpcUrl;
        await waitFor(() => guardLines(logs).some((line) => line.url === url), {
          timeout: 10_000,
          message: 'the new replica to answer calls',
        });
        const after = calls;
        await waitFor(() => calls > after + 50, { message: 'calls to flow after the roll' });
      }
    } finally {
      rolling = false;
      await Promise.all(clients);
    }

    expect(failures).toEqual([]);
    const urls = guardLines(logs).map((line) => line.url);
    expect(new Set(urls)).toEqual(new Set([replicas[0]!.rpcUrl, replicas[1]!.rpcUrl]));
    for (const line of guardLines(logs)) expect(line.msg).toMatch(/: compatible$/);
  });

  it('fails only the calls an incompatible replica cannot serve, each with CONTRACT_MISMATCH naming that replica', async () => {
    const base = await getFreePortRange(2);
    const old = await startReplica('v1', base, 2, 0, transport);
    const updated = await startReplica('incompatible', base, 2, 1, transport);
    const { products, logs } = await startCaller(base, 2, transport);

    const results = await Promise.allSettled(
      Array.from({ length: 40 }, () => products.reserve({ id: 'p1', quantity: 1 })),
    );
    const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason as unknown);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(40);
    for (const error of failed) {
      expect(hasErrorCode(error, 'CONTRACT_MISMATCH')).toBe(true);
      expect((error as { details: unknown }).details).toMatchObject({
        url: updated.rpcUrl,
        caller: { version: 1 },
        server: { version: 2 },
        differences: ['reserve: the server has no such method'],
      });
    }

    const lines = guardLines(logs);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, url: updated.rpcUrl });
    expect(lines.some((line) => line.url === old.rpcUrl)).toBe(false);
  });
});
