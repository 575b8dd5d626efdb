/**
 * Hostile requests to the RPC port of an authenticated split: malformed, oversized, wrongly signed,
 * misaddressed, expired and replayed credentials, oversized headers, a body over the limit, deep JSON
 * nesting, uncoded errors, hostile correlation ids, slow clients and thousands of idle connections; and
 * to the admin listener, oversized headers, bytes that are not HTTP and a thousand idle connections.
 * Each gets a coded 4xx (or a closed connection for
 * the slow and idle ones), no answer carries a stack trace or a file path, nothing reaches the
 * implementation, and the processes keep serving.
 */
import { type BlueprintApp, createApp } from '@blueprint/core';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFreePort, waitFor } from '../../../../test/harness/index.js';
import { mintCredential } from '../../src/auth/credentials.js';
import { Accounts, bankApp, INTERNAL_TEXT, ledger, SECRET, Teller } from './fixtures/bank-app.js';
import { RawClient } from './fixtures/raw-client.js';

const BODY_LIMIT = 8 * 1024;
const HEADERS_TIMEOUT = 300;
const REQUEST_TIMEOUT = 600;
const MAX_CONNECTIONS = 64;
const MAX_HEADER_SIZE = 16 * 1024;

const logs: Record<string, unknown>[] = [];
const apps: Record<'vault' | 'front', BlueprintApp> = {} as never;
const pools: Record<'vault' | 'front', Pool> = {} as never;
const ports: Record<'vault' | 'front', number> = {} as never;
/** Every answer body received, checked for internal text at the end. */
const answers: string[] = [];

beforeAll(async () => {
  ports.vault = await getFreePort();
  ports.front = await getFreePort();
  const topology = {
    app: './bank.js',
    rpc: {
      type: 'http',
      timeout: '3s',
      bodyLimit: BODY_LIMIT,
      headersTimeout: HEADERS_TIMEOUT,
      requestTimeout: REQUEST_TIMEOUT,
      maxConnections: MAX_CONNECTIONS,
      maxHeaderSize: MAX_HEADER_SIZE,
    },
    auth: { secret: SECRET },
    observability: { logLevel: 'warn', metrics: { enabled: false } },
    admin: { port: 0 },
    processes: {
      vault: { services: ['accounts'], address: `http://127.0.0.1:${ports.vault}` },
      front: { services: ['teller', 'audit'], address: `http://127.0.0.1:${ports.front}` },
    },
  };
  for (const name of ['vault', 'front'] as const) {
    apps[name] = await createApp(bankApp, {
      topology,
      process: name,
      logDestination: { write: (line) => logs.push({ process: name, ...JSON.parse(line) }) },
    });
    await apps[name].start();
    pools[name] = new Pool(apps[name].rpcUrl!, { connections: 4 });
  }
});

afterAll(async () => {
  await Promise.all(Object.values(pools).map((p) => p.close()));
  await Promise.all(Object.values(apps).map((a) => a?.stop()));
});

const credentialFor = (audience: 'vault' | 'front', caller = audience === 'vault' ? 'front' : 'vault') =>
  mintCredential({ current: SECRET }, caller, audience, 5_000);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  error: { code: string; message: string; details?: Record<string, unknown> } | undefined;
}

async function post(
  target: 'vault' | 'front',
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await pools[target].request({
    path,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-bp-credential': credentialFor(target), ...headers },
    body,
  });
  const text = await response.body.text();
  answers.push(text);
  const parsed = text.length > 0 ? (JSON.parse(text) as { error?: Answer['error'] }) : {};
  return { status: response.statusCode, headers: response.headers, text, error: parsed.error };
}

function expectCoded(answer: Answer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.error).toMatchObject({ code, message: expect.any(String) });
  expect(answer.headers['x-content-type-options']).toBe('nosniff');
}

/** Raw bytes to the vault's port; resolves once the server closed the connection. */
async function raw(request: string | Buffer): Promise<RawClient> {
  const client = new RawClient(ports.vault);
  await client.connected();
  await client.write(request);
  await waitFor(() => client.closed || client.received.includes('}}'), { message: 'an answer' });
  answers.push(client.received);
  return client;
}

const snapshot = () => ({ ...ledger });

describe('credentials', () => {
  it.each([
    ['missing', undefined, 'missing'],
    ['garbage', 'Bearer <script>alert(1)</script>', 'malformed'],
    ['wrong version', 'bp9.front.vault.1.abcdefghijklmnop.sig', 'malformed'],
    ['a quote and a newline escape', 'bp1."front\\n.vault.1.x.y', 'malformed'],
    ['4 KiB long', `bp1.${'a'.repeat(4_096)}`, 'malformed'],
    ['12 KiB long, under the header limit', 'x'.repeat(12 * 1024), 'malformed'],
  ])('refuses a %s credential with 401 UNAUTHENTICATED', async (_name, credential, reason) => {
    const was = snapshot();
    const headers: Record<string, string> = credential === undefined ? {} : { 'x-bp-credential': credential };
    const response = await pools.vault.request({
      path: '/rpc/accounts/credit',
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ amount: 1_000 }),
    });
    const text = await response.body.text();
    answers.push(text);
    expect(response.statusCode).toBe(401);
    const error = (JSON.parse(text) as { error: Answer['error'] }).error!;
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.details?.reason).toBe(reason);
    if (credential !== undefined) expect(text).not.toContain(credential);
    expect(ledger).toEqual(was);
  });

  it.each([
    [
      'signed with another secret',
      () => mintCredential({ current: `${SECRET}-other` }, 'front', 'vault', 5_000),
      'signature',
    ],
    ['for another process', () => credentialFor('front', 'vault'), 'audience'],
    [
      'expired',
      () => mintCredential({ current: SECRET }, 'front', 'vault', 1_000, Date.now() - 60_000),
      'expired',
    ],
  ])('refuses a credential %s with 401 UNAUTHENTICATED', async (_name, make, reason) => {
    const was = snapshot();
    const answer = await post('vault', '/rpc/accounts/credit', JSON.stringify({ amount: 1 }), {
      'x-bp-credential': make(),
    });
    expectCoded(answer, 401, 'UNAUTHENTICATED');
    expect(answer.error!.details?.reason).toBe(reason);
    expect(ledger).toEqual(was);
  });

  it('refuses a credential used a second time', async () => {
    const credential = credentialFor('vault');
    const first = await post('vault', '/rpc/accounts/credit', JSON.stringify({ amount: 1 }), {
      'x-bp-credential': credential,
    });
    expect(first.status).toBe(200);
    const was = snapshot();
    const again = await post('vault', '/rpc/accounts/credit', JSON.stringify({ amount: 1 }), {
      'x-bp-credential': credential,
    });
    expectCoded(again, 401, 'UNAUTHENTICATED');
    expect(again.error!.details?.reason).toBe('replayed');
    expect(ledger).toEqual(was);
  });

  it('answers a credential over the header limit with 431 before anything is read', async () => {
    const was = snapshot();
    const client = await raw(
      `POST /rpc/accounts/credit HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-bp-credential: ${'x'.repeat(MAX_HEADER_SIZE + 1)}\r\ncontent-length: 2\r\n\r\n{}`,
    );
    expect(client.received).toMatch(/^HTTP\/1\.1 431 /);
    expect(client.body().error?.code).toBe('RPC_BAD_REQUEST');
    expect(ledger).toEqual(was);
  });
});

describe('headers', () => {
  it('answers headers over maxHeaderSize with a coded 431', async () => {
    const many = Array.from({ length: 400 }, (_, i) => `x-h${i}: ${'v'.repeat(40)}`).join('\r\n');
    const client = await raw(`GET /health/live HTTP/1.1\r\nhost: x\r\n${many}\r\n\r\n`);
    expect(client.received).toMatch(/^HTTP\/1\.1 431 /);
    expect(client.received).toContain('x-content-type-options: nosniff');
    expect(client.body().error?.message).toContain(`${MAX_HEADER_SIZE} bytes`);
  });

  it('answers a request that is not HTTP with a coded 400', async () => {
    const client = await raw('HELLO <script> \u0000\r\n\r\n');
    expect(client.received).toMatch(/^HTTP\/1\.1 400 /);
    expect(client.body().error?.code).toBe('RPC_BAD_REQUEST');
  });
});

describe('bodies', () => {
  it('refuses a declared body over the limit before it is sent, let alone read', async () => {
    const was = snapshot();
    const client = new RawClient(ports.vault);
    await client.connected();
    // Headers only: the 100 MB the request declares never come.
    await client.write(
      `POST /rpc/accounts/credit HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-bp-credential: ${credentialFor('vault')}\r\ncontent-length: ${100 * 1024 * 1024}\r\n\r\n`,
    );
    await waitFor(() => client.received.includes('}}'), { message: 'the 413' });
    answers.push(client.received);
    expect(client.received).toMatch(/^HTTP\/1\.1 413 /);
    expect(client.body().error).toMatchObject({
      code: 'RPC_PAYLOAD_TOO_LARGE',
      details: { limit: BODY_LIMIT },
    });
    client.socket.destroy();
    expect(ledger).toEqual(was);
  });

  it('refuses a streamed body once it passes the limit', async () => {
    const was = snapshot();
    const answer = await post(
      'vault',
      '/rpc/accounts/credit',
      JSON.stringify({ amount: 1, memo: 'm'.repeat(BODY_LIMIT) }),
    );
    expectCoded(answer, 413, 'RPC_PAYLOAD_TOO_LARGE');
    expect(ledger).toEqual(was);
  });

  it.each([
    ['arrays', (n: number) => `{"amount":1,"memo":${'['.repeat(n)}${']'.repeat(n)}}`],
    ['objects', (n: number) => `{"amount":1,"memo":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`],
    [
      'tagged sets (revived recursively)',
      (n: number) => `{"amount":1,"memo":${'{"$bp":"set","v":['.repeat(n)}${']}'.repeat(n)}}`,
    ],
  ])('answers 400 RPC_BAD_REQUEST to deeply nested %s, without a RangeError', async (_name, make) => {
    const was = snapshot();
    for (const depth of [200, 5_000]) {
      const answer = await post('vault', '/rpc/accounts/credit', make(depth).slice(0, BODY_LIMIT - 1));
      expectCoded(answer, 400, 'RPC_BAD_REQUEST');
      expect(answer.error!.message).toContain('nested deeper than 128 levels');
      expect(answer.text).not.toMatch(/RangeError|call stack/);
    }
    expect(ledger).toEqual(was);
  });

  it('accepts nesting within the bound', async () => {
    const answer = await post(
      'vault',
      '/rpc/accounts/credit',
      `{"amount":1,"memo":${'['.repeat(100)}${']'.repeat(100)}}`,
    );
    expect(answer.status).toBe(200);
    ledger.credits--;
    ledger.balance--;
  });
});

describe('uncoded errors', () => {
  it('answers INTERNAL with a generic message and the correlation id, and logs the detail under it', async () => {
    const answer = await post('vault', '/rpc/accounts/explode', '', { 'x-correlation-id': 'req-hostile-1' });
    expectCoded(answer, 500, 'INTERNAL');
    expect(answer.error!.message).toBe("internal error; see the server's logs, correlation id req-hostile-1");
    expect(answer.error!.details).toEqual({ correlationId: 'req-hostile-1' });
    expect(answer.text).not.toContain('ENOENT');
    expect(answer.text).not.toContain('/srv/bank');
    await waitFor(
      () =>
        logs.some((l) => l.correlationId === 'req-hostile-1' && JSON.stringify(l).includes(INTERNAL_TEXT)),
      {
        message: 'the detail logged under the correlation id',
      },
    );
  });

  it('makes up a correlation id for a call without one, and logs it with the detail', async () => {
    const answer = await post('vault', '/rpc/accounts/explode', '');
    expectCoded(answer, 500, 'INTERNAL');
    const id = answer.error!.details?.correlationId as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(
      () => logs.some((l) => l.correlationId === id && JSON.stringify(l).includes(INTERNAL_TEXT)),
      {
        message: 'the made-up id logged with the detail',
      },
    );
  });

  it('gives a caller in another process the generic message, and a local caller the original one', async () => {
    await expect(apps.front.client(Accounts).explode()).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/^internal error; see the server's logs, correlation id /),
    });
    await expect(apps.vault.client(Accounts).explode()).rejects.toMatchObject({
      code: 'INTERNAL',
      message: INTERNAL_TEXT,
    });
  });
});

describe('correlation ids', () => {
  it.each([
    ['4,000 characters', 'a'.repeat(4_000)],
    ['markup', '<script>alert(1)</script>'],
    ['quotes', `"'); DROP TABLE orders; --`],
    ['129 characters', 'b'.repeat(129)],
  ])('replaces %s with a fresh id that propagates to the next call', async (_name, hostile) => {
    const answer = await post('front', '/rpc/teller/trace', '', { 'x-correlation-id': hostile });
    expect(answer.status).toBe(200);
    const seen = JSON.parse(answer.text) as { own: string; downstream: string };
    expect(seen.own).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    expect(seen.own).not.toBe(hostile);
    expect(seen.downstream).toBe(seen.own);
    expect(JSON.stringify(logs)).not.toContain(hostile);
  });

  it('keeps a valid one as sent', async () => {
    const id = `01HZX3K7Q9:host-1.${'c'.repeat(100)}`;
    const answer = await post('front', '/rpc/teller/trace', '', { 'x-correlation-id': id });
    expect(JSON.parse(answer.text)).toEqual({ own: id, downstream: id });
  });
});

describe('slow and idle clients', () => {
  it('closes a client that holds a connection with headers that never finish', async () => {
    const slow = new RawClient(ports.vault);
    await slow.connected();
    await slow.write('POST /rpc/accounts/credit HTTP/1.1\r\nhost: x\r\nx-slow: ');
    await waitFor(() => slow.closed, { timeout: HEADERS_TIMEOUT + 2_000, message: 'the slow client cut' });
    answers.push(slow.received);
    expect(slow.closedAt! - slow.opened).toBeLessThan(HEADERS_TIMEOUT + 1_000);
  });

  it('closes a client whose body never completes, before anything runs', async () => {
    const was = snapshot();
    const stalled = new RawClient(ports.vault);
    await stalled.connected();
    await stalled.write(
      `POST /rpc/accounts/credit HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-bp-credential: ${credentialFor('vault')}\r\ncontent-length: 50\r\n\r\n{"amount":`,
    );
    await waitFor(() => stalled.closed, {
      timeout: REQUEST_TIMEOUT + 2_000,
      message: 'the stalled body cut',
    });
    answers.push(stalled.received);
    expect(stalled.closedAt! - stalled.opened).toBeLessThan(REQUEST_TIMEOUT + 1_000);
    expect(ledger).toEqual(was);
  });

  it('bounds 2,000 idle connections and closes them all', async () => {
    const clients: RawClient[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const opened = Array.from({ length: 200 }, () => new RawClient(ports.vault));
      clients.push(...opened);
      await Promise.all(opened.map((c) => c.connected().catch(() => undefined)));
    }
    await waitFor(() => clients.filter((c) => !c.closed).length <= MAX_CONNECTIONS, {
      message: `at most ${MAX_CONNECTIONS} idle connections open`,
    });
    await waitFor(() => clients.every((c) => c.closed), {
      timeout: HEADERS_TIMEOUT + 3_000,
      message: 'every idle connection closed',
    });
  });
});

describe('the admin listener', () => {
  const adminPort = () => Number(new URL(apps.vault.adminUrl!).port);

  it('answers headers over the limit with a coded 431, and a request that is not HTTP with a coded 400', async () => {
    const many = Array.from({ length: 400 }, (_, i) => `x-h${i}: ${'v'.repeat(60)}`).join('\r\n');
    const big = new RawClient(adminPort());
    await big.connected();
    await big.write(`GET /health/ready HTTP/1.1\r\nhost: x\r\n${many}\r\n\r\n`);
    await waitFor(() => big.closed || big.received.includes('}}'), { message: 'the 431' });
    answers.push(big.received);
    expect(big.received).toMatch(/^HTTP\/1\.1 431 /);
    expect(big.received).toContain('x-content-type-options: nosniff');
    const garbage = new RawClient(adminPort());
    await garbage.connected();
    await garbage.write('HELLO <script>\r\n\r\n');
    await waitFor(() => garbage.closed || garbage.received.includes('}}'), { message: 'the 400' });
    answers.push(garbage.received);
    expect(garbage.received).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('bounds 1,000 idle connections, and answers again once they are gone', async () => {
    const clients = Array.from({ length: 1_000 }, () => new RawClient(adminPort()));
    await Promise.all(clients.map((c) => c.connected().catch(() => undefined)));
    await waitFor(() => clients.filter((c) => !c.closed).length <= 256, {
      message: 'at most 256 idle admin connections open',
    });
    for (const client of clients) client.socket.destroy();
    await waitFor(async () => (await fetch(`${apps.vault.adminUrl}/health/live`)).status === 200, {
      message: 'the admin listener to answer',
    });
  });
});

describe('afterwards', () => {
  it('no answer carried a stack trace or a file path', () => {
    expect(answers.length).toBeGreaterThan(20);
    for (const text of answers) {
      expect(text).not.toMatch(/\n\s+at |\.[cm]?[jt]s:\d+|\/work\/|node_modules|file:\/\/|\/srv\//);
    }
  });

  it('both processes keep serving', async () => {
    const was = snapshot();
    const answer = await post('vault', '/rpc/accounts/credit', JSON.stringify({ amount: 2 }));
    expect(answer.status).toBe(200);
    expect(ledger.credits).toBe(was.credits + 1);
    expect((await apps.front.client(Teller).trace()).downstream).toBeNull();
    expect(ledger.explosions).toBe(4);
  });
});
