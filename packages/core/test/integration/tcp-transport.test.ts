/**
 * The `tcp` RPC transport as a topology selects it: service authentication on every call (a call without
 * a valid credential changes nothing), `tcps://` with real TLS and mutual TLS, and the topology checks of
 * `tcp://` addresses. Its replicas behind the client-side balancer are in replicas.test.ts, which runs
 * on each transport.
 */
import { parseTopology } from '@blueprint/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, getFreePortRange, type TestPki } from '../../../../test/harness/index.js';
import { appStarter } from '../../../../test/harness/started-apps.js';
import { createTcpRpcClient } from '../../src/rpc/tcp/client.js';
import { bankApp, ledger, SECRET, Teller } from './fixtures/bank-app.js';

const started = appStarter();

describe('tcp RPC: authentication and TLS', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki({ clients: ['front'] });
  });
  afterAll(async () => {
    await pki?.dispose();
  });

  async function bank(scheme: 'tcp' | 'tcps', mutual = false) {
    const vaultPort = await getFreePortRange(2);
    const frontPort = vaultPort + 1;
    const topology = {
      app: './bank.js',
      rpc: { type: 'tcp', timeout: '2s' },
      auth: { secret: SECRET },
      ...(scheme === 'tcps'
        ? {
            tls: {
              ca: pki.ca.certPath,
              cert: pki.server.certPath,
              key: pki.server.keyPath,
              ...(mutual ? { clientCert: pki.client.certPath, clientKey: pki.client.keyPath } : {}),
            },
          }
        : {}),
      observability: { logLevel: 'silent' },
      processes: {
        vault: { services: ['accounts'], address: `${scheme}://127.0.0.1:${vaultPort}` },
        front: { services: ['teller', 'audit'], address: `${scheme}://127.0.0.1:${frontPort}` },
      },
    };
    const vault = await started(bankApp, { topology, process: 'vault' });
    const front = await started(bankApp, { topology, process: 'front' });
    return { vault, front };
  }

  it('authenticates every call: the service sees the verified caller; a call without a credential changes nothing', async () => {
    const { vault, front } = await bank('tcp');
    expect(await front.client(Teller).pay({ amount: 5 })).toMatchObject({ caller: 'front' });
    const before = { ...ledger };
    const stranger = createTcpRpcClient({ url: vault.rpcUrl! });
    await expect(stranger.call('accounts', 'credit', { amount: 1_000_000 })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      status: 401,
    });
    await expect(
      stranger.call(
        'accounts',
        'credit',
        { amount: 1 },
        { headers: { 'x-bp-credential': 'bp1.front.vault.1.x.y' } },
      ),
    ).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await stranger.close();
    expect(ledger).toEqual(before);
  });

  it('serves tcps:// over TLS verified against the CA; a plain client and a client trusting another CA are refused', async () => {
    const { vault, front } = await bank('tcps');
    expect(vault.rpcUrl).toMatch(/^tcps:\/\/127\.0\.0\.1:\d+$/);
    expect(await front.client(Teller).pay({ amount: 2 })).toMatchObject({ caller: 'front' });
    const before = { ...ledger };
    const plain = createTcpRpcClient({ url: vault.rpcUrl!.replace('tcps:', 'tcp:'), connectTimeout: 2_000 });
    await expect(plain.call('accounts', 'credit', { amount: 1 })).rejects.toMatchObject({
      code: 'REMOTE_UNAVAILABLE',
    });
    await plain.close();
    const otherCa = createTcpRpcClient({ url: vault.rpcUrl!, tls: { ca: pki.otherCa.cert } });
    const error = (await otherCa.call('accounts', 'credit', { amount: 1 }).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'REMOTE_UNAVAILABLE' });
    expect(error.message).toMatch(/CERT|SIGNATURE|ISSUER|certificate/i);
    await otherCa.close();
    expect(ledger).toEqual(before);
  });

  it('with a client certificate, asks every caller for one signed by the CA (mutual TLS)', async () => {
    const { vault, front } = await bank('tcps', true);
    expect(await front.client(Teller).pay({ amount: 3 })).toMatchObject({ caller: 'front' });
    const before = { ...ledger };
    const anonymous = createTcpRpcClient({
      url: vault.rpcUrl!,
      tls: { ca: pki.ca.cert },
      connectTimeout: 2_000,
    });
    await expect(anonymous.call('accounts', 'credit', { amount: 1 })).rejects.toMatchObject({
      code: 'REMOTE_UNAVAILABLE',
    });
    await anonymous.close();
    expect(ledger).toEqual(before);
  });
});

describe('tcp RPC: topology', () => {
  const issues = (raw: Record<string, unknown>) => {
    try {
      parseTopology({ app: './a.js', ...raw });
    } catch (error) {
      return (error as { details: { issues: { path: string; message: string }[] } }).details.issues;
    }
    return [];
  };

  it('accepts tcp:// addresses with "rpc": { "type": "tcp" } and fills in the defaults', () => {
    const topology = parseTopology({
      app: './a.js',
      rpc: { type: 'tcp' },
      processes: {
        a: { services: ['x'], address: 'tcp://127.0.0.1:4001', replicas: 2 },
        b: { services: [] },
      },
    });
    expect(topology.rpc).toMatchObject({ type: 'tcp', timeout: 10_000, connections: 1, maxInFlight: 1024 });
  });

  it('refuses an address whose scheme is not the transport’s, and tcps:// without certificates', () => {
    expect(
      issues({ rpc: { type: 'tcp' }, processes: { a: { services: [], address: 'http://127.0.0.1:4001' } } }),
    ).toEqual([
      {
        path: 'topology.processes.a.address',
        message:
          'http://127.0.0.1:4001 does not fit "rpc": { "type": "tcp" }, whose addresses are tcp:// or tcps://; change the scheme or the rpc type',
      },
    ]);
    expect(
      issues({
        rpc: { type: 'http' },
        processes: { a: { services: [], addresses: ['tcp://127.0.0.1:4001'] } },
      }),
    ).toMatchObject([{ path: 'topology.processes.a.addresses' }]);
    expect(
      issues({ rpc: { type: 'tcp' }, processes: { a: { services: [], address: 'tcps://127.0.0.1:4001' } } }),
    ).toEqual([
      {
        path: 'topology.processes.a.address',
        message:
          'tcps://127.0.0.1:4001 is tcps, but no certificate is configured: add a "tls" section ({ "ca", "cert", "key" }) at the top or to this process, or use tcp://',
      },
    ]);
    expect(
      issues({
        rpc: { type: 'tcp', connections: 0, maxHeaderSize: '100kb' },
        processes: { a: { services: [] } },
      }),
    ).toHaveLength(2);
  });
});
