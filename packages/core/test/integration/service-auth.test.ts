/**
 * Calls between services are authenticated: every remote call carries a fresh credential signed with
 * the topology's secret, the server refuses anything else with 401 before reading the body, and
 * `callers` restricts who may call a process (403). The secret never shows anywhere.
 */
import { type BlueprintApp, createApp } from '@blueprint/core';
import { afterEach, describe, expect, it } from 'vitest';
import { getFreePort } from '../../../../test/harness/index.js';
import { mintCredential } from '../../src/auth/credentials.js';
import { Accounts, Audit, bankApp, ledger, SECRET, Teller } from './fixtures/bank-app.js';

const started: BlueprintApp[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((a) => a.stop()));
});

async function bank(auth: unknown, callers?: string[]) {
  const ports = [await getFreePort(), await getFreePort(), await getFreePort()];
  const logs: string[] = [];
  const topology = {
    app: './bank.js',
    rpc: { type: 'http', timeout: '2s' },
    auth,
    admin: { port: { vault: 0 } },
    processes: {
      vault: {
        services: ['accounts'],
        address: `http://127.0.0.1:${ports[0]}`,
        ...(callers === undefined ? {} : { callers }),
      },
      front: { services: ['teller'], address: `http://127.0.0.1:${ports[1]}` },
      back: { services: ['audit'], address: `http://127.0.0.1:${ports[2]}` },
    },
  };
  const apps = {} as Record<'vault' | 'front' | 'back', BlueprintApp>;
  for (const name of ['vault', 'front', 'back'] as const) {
    apps[name] = await createApp(bankApp, {
      topology,
      process: name,
      logDestination: { write: (line) => logs.push(line) },
    });
    started.push(apps[name]);
    await apps[name].start();
  }
  return { ...apps, logs, topology };
}

const rawCredit = (url: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/rpc/accounts/credit`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ amount: 1_000_000 }),
  });

describe('authenticated calls between services', () => {
  it('carries a credential naming the calling process, which the callee sees as context.caller', async () => {
    const { front, vault } = await bank({ secret: SECRET });
    expect((await front.client(Teller).pay({ amount: 5 })).balance).toBeGreaterThanOrEqual(5);
    const direct = await vault.client(Accounts).credit({ amount: 0 });
    expect(direct.caller).toBe('(none)');
    const remote = await front.client(Accounts).credit({ amount: 0 });
    expect(remote.caller).toBe('front');
  });

  it('refuses a raw call without a valid credential with 401 before running anything', async () => {
    const { vault } = await bank({ secret: SECRET });
    const before = { ...ledger };
    const now = Date.now();
    const cases: Record<string, Record<string, string>> = {
      missing: {},
      malformed: { 'x-bp-credential': 'Bearer hello' },
      oversized: { 'x-bp-credential': 'x'.repeat(4_000) },
      signature: {
        'x-bp-credential': mintCredential(
          { current: 'some other secret that is long enough!!' },
          'front',
          'vault',
          5_000,
          now,
        ),
      },
      expired: {
        'x-bp-credential': mintCredential({ current: SECRET }, 'front', 'vault', 5_000, now - 120_000),
      },
      audience: { 'x-bp-credential': mintCredential({ current: SECRET }, 'front', 'back', 5_000, now) },
    };
    const reasons: Record<string, string> = { oversized: 'malformed' };
    for (const [name, headers] of Object.entries(cases)) {
      const reason = reasons[name] ?? name;
      const response = await rawCredit(vault.rpcUrl!, headers);
      expect(response.status, reason).toBe(401);
      const body = (await response.json()) as { error: { code: string; details?: { reason: string } } };
      expect(body.error.code, reason).toBe('UNAUTHENTICATED');
      expect(body.error.details?.reason, reason).toBe(reason);
    }
    expect(ledger).toEqual(before);
  });

  it('refuses a replayed credential', async () => {
    const { vault } = await bank({ secret: SECRET });
    const token = mintCredential({ current: SECRET }, 'front', 'vault', 5_000);
    expect((await rawCredit(vault.rpcUrl!, { 'x-bp-credential': token })).status).toBe(200);
    const again = await rawCredit(vault.rpcUrl!, { 'x-bp-credential': token });
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: { details: { reason: string } } }).error.details.reason).toBe(
      'replayed',
    );
  });

  it('lets only the listed callers in: others get 403 FORBIDDEN', async () => {
    const { front, back } = await bank({ secret: SECRET }, ['front']);
    expect((await front.client(Teller).pay({ amount: 1 })).balance).toBeGreaterThan(0);
    await expect(back.client(Audit).touch()).rejects.toMatchObject({ code: 'FORBIDDEN', status: 403 });
  });

  it('never shows the secret: not in logs, errors, metrics, readiness or the topology', async () => {
    const { front, vault, back, logs } = await bank({ secret: SECRET }, ['front']);
    await front.client(Teller).pay({ amount: 1 });
    const failure = await back
      .client(Audit)
      .touch()
      .catch((error: unknown) => error as Error);
    await rawCredit(vault.rpcUrl!, { 'x-bp-credential': 'bp1.a.b.1.c.d' });
    const seen = [
      logs.join('\n'),
      JSON.stringify(failure),
      String((failure as Error).message),
      await vault.metrics(),
      await (await fetch(`${vault.adminUrl}/health/ready`)).text(),
      JSON.stringify(vault.topology),
      String(vault.topology.auth),
    ].join('\n');
    expect(seen).not.toContain(SECRET);
    expect(seen).not.toContain(SECRET.slice(0, 16));
  });

  it('with "auth": "none", calls need no credential', async () => {
    const { vault } = await bank('none');
    expect((await rawCredit(vault.rpcUrl!)).status).toBe(200);
  });
});
