/**
 * `https://` addresses mean real TLS: the server serves the topology's certificate, the client verifies
 * it against the topology's CA, and with a client certificate calls use mutual TLS. A plain-HTTP client,
 * a client trusting another CA, and (with mutual TLS) a client without a certificate signed by the CA
 * are refused before anything runs. Certificates come from a throw-away PKI.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BlueprintApp, createApp } from '@blueprint/core';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, getFreePort, type TestPki } from '../../../../test/harness/index.js';
import { bankApp, ledger, SECRET, Teller } from './fixtures/bank-app.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki({ clients: ['front'] });
});
afterAll(async () => {
  await pki?.dispose();
});

const started: BlueprintApp[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((a) => a.stop()));
});

/** The `tls` section for `pki`: server-only, or mutual with the `front` client certificate. */
function tlsSection(mutual: boolean) {
  return {
    ca: pki.ca.certPath,
    cert: pki.server.certPath,
    key: pki.server.keyPath,
    ...(mutual ? { clientCert: pki.client.certPath, clientKey: pki.client.keyPath } : {}),
  };
}

async function bank(tls: Record<string, unknown>, frontTls?: Record<string, unknown>) {
  const [vaultPort, frontPort] = [await getFreePort(), await getFreePort()];
  const topology = {
    app: './bank.js',
    rpc: { type: 'http', timeout: '2s' },
    auth: { secret: SECRET },
    tls,
    observability: { logLevel: 'silent' },
    processes: {
      vault: { services: ['accounts'], address: `https://127.0.0.1:${vaultPort}` },
      front: {
        services: ['teller', 'audit'],
        address: `https://127.0.0.1:${frontPort}`,
        ...(frontTls === undefined ? {} : { tls: frontTls }),
      },
    },
  };
  const apps = {} as Record<'vault' | 'front', BlueprintApp>;
  for (const name of ['vault', 'front'] as const) {
    apps[name] = await createApp(bankApp, { topology, process: name });
    started.push(apps[name]);
    await apps[name].start();
  }
  return apps;
}

/** A raw POST of a credit with undici and the given TLS options; resolves to the status or the error. */
async function rawCredit(url: string, connect: Record<string, string>): Promise<number | Error> {
  const dispatcher = new Agent({ connect });
  try {
    const response = await request(`${url}/rpc/accounts/credit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount: 1_000_000 }),
      dispatcher,
    });
    await response.body.text();
    return response.statusCode;
  } catch (error) {
    return error as Error;
  } finally {
    await dispatcher.close();
  }
}

async function failureOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a failure');
}

describe('TLS between services', () => {
  it('serves calls over https: the RPC server speaks TLS and the caller verifies it against the CA', async () => {
    const { vault, front } = await bank(tlsSection(false));
    expect(vault.rpcUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const before = ledger.credits;
    expect(await front.client(Teller).pay({ amount: 5 })).toMatchObject({ caller: 'front' });
    expect(ledger.credits).toBe(before + 1);
    // The readiness probe of the RPC port answers over TLS too.
    const dispatcher = new Agent({ connect: { ca: pki.ca.cert } });
    const live = await request(`${vault.rpcUrl}/health/live`, { dispatcher });
    expect(live.statusCode).toBe(200);
    await live.body.text();
    await dispatcher.close();
  });

  it('refuses a plain-HTTP client', async () => {
    const { vault } = await bank(tlsSection(false));
    const before = { ...ledger };
    const plain = vault.rpcUrl!.replace('https:', 'http:');
    const answer = await rawCredit(plain, {});
    expect(answer).toBeInstanceOf(Error);
    expect(ledger).toEqual(before);
  });

  it('refuses a client that trusts another CA, and a caller process whose tls names another CA', async () => {
    const { vault, front } = await bank(tlsSection(false), {
      ca: pki.otherCa.certPath,
      cert: pki.otherServer.certPath,
      key: pki.otherServer.keyPath,
    });
    const before = { ...ledger };
    const answer = await rawCredit(vault.rpcUrl!, { ca: pki.otherCa.cert });
    expect(answer).toBeInstanceOf(Error);
    expect(String((answer as Error & { code?: string }).code ?? (answer as Error).message)).toMatch(
      /CERT|SIGNATURE|ISSUER|certificate/i,
    );
    await expect(front.client(Teller).pay({ amount: 1 })).rejects.toMatchObject({
      code: 'REMOTE_UNAVAILABLE',
    });
    expect(ledger).toEqual(before);
  });

  it('reads the certificates relative to the topology file', async () => {
    const port = await getFreePort();
    const file = join(pki.dir, 'topology.json');
    await writeFile(
      file,
      JSON.stringify({
        app: './bank.js',
        rpc: { type: 'http' },
        auth: { secret: SECRET },
        tls: { ca: 'ca.crt', cert: 'server.crt', key: 'server.key' },
        observability: { logLevel: 'silent' },
        processes: {
          vault: { services: ['accounts', 'teller', 'audit'], address: `https://127.0.0.1:${port}` },
        },
      }),
    );
    const vault = await createApp(bankApp, { topology: file });
    started.push(vault);
    await vault.start();
    expect(vault.rpcUrl).toBe(`https://127.0.0.1:${port}`);
  });

  it('refuses to build a process whose certificate file is missing, naming the key and the file', async () => {
    const error = await failureOf(bank({ ...tlsSection(false), cert: join(pki.dir, 'nope.crt') }));
    expect(error).toMatchObject({ code: 'TOPOLOGY_INVALID' });
    expect(error.message).toContain('topology.tls.cert');
    expect(error.message).toContain(join(pki.dir, 'nope.crt'));
    expect(error.message).toContain('ENOENT');
  });

  it('refuses a file that is not PEM', async () => {
    const error = await failureOf(bank({ ...tlsSection(false), key: join(pki.dir, 'openssl.cnf') }));
    expect(error.message).toContain('topology.tls.key');
    expect(error.message).toContain('not a PEM file');
  });
});

describe('mutual TLS', () => {
  it('runs the two-process call path with client certificates', async () => {
    const { front } = await bank(tlsSection(true));
    const results = await Promise.all(
      Array.from({ length: 20 }, () => front.client(Teller).pay({ amount: 1 })),
    );
    expect(results.every((r) => r.caller === 'front')).toBe(true);
  });

  it('refuses a client without a certificate and one whose certificate another CA signed', async () => {
    const { vault } = await bank(tlsSection(true));
    const before = { ...ledger };
    expect(await rawCredit(vault.rpcUrl!, { ca: pki.ca.cert })).toBeInstanceOf(Error);
    expect(
      await rawCredit(vault.rpcUrl!, {
        ca: pki.ca.cert,
        cert: pki.otherClient.cert,
        key: pki.otherClient.key,
      }),
    ).toBeInstanceOf(Error);
    expect(ledger).toEqual(before);
  });

  it('lets a client with the CA-signed certificate through to the HTTP layer (where auth still applies)', async () => {
    const { vault } = await bank(tlsSection(true));
    const before = { ...ledger };
    const status = await rawCredit(vault.rpcUrl!, {
      ca: pki.ca.cert,
      cert: pki.client.cert,
      key: pki.client.key,
    });
    // Through TLS, refused by the credential check: mutual TLS and auth are separate locks.
    expect(status).toBe(401);
    expect(ledger).toEqual(before);
  });
});
