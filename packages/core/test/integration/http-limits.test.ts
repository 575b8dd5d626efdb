/**
 * The limits of the `http` RPC server, over real sockets with short configured timeouts: headers that
 * come too slowly and a body that never completes are cut within their bound, idle keep-alive
 * connections close, the number of connections is bounded, and a body over the limit gets a 413 and a
 * graceful close, so Blueprint's own client reads `RPC_PAYLOAD_TOO_LARGE` and does not try again.
 */
import { Readable } from 'node:stream';
import { type BlueprintApp, createApp } from '@blueprint/core';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFreePort, waitFor } from '../../../../test/harness/index.js';
import { Accounts, ledger, ledgerApp } from './fixtures/ledger-app.js';
import { RawClient } from './fixtures/raw-client.js';

const BODY_LIMIT = 4 * 1024;
const HEADERS_TIMEOUT = 300;
const REQUEST_TIMEOUT = 600;
const KEEP_ALIVE = 400;
const MAX_CONNECTIONS = 50;
/** Node checks the timeouts every quarter of the shorter one: a cut comes at most that much late. */
const SLACK = HEADERS_TIMEOUT / 4 + 400;

const servers: BlueprintApp[] = [];
let caller: BlueprintApp;
let pool: Pool;
let port: number;
const logs: { msg: string; code?: string }[] = [];

beforeAll(async () => {
  const ports = [await getFreePort(), await getFreePort()];
  const topology = {
    app: './bank.js',
    rpc: {
      type: 'http',
      timeout: '5s',
      bodyLimit: BODY_LIMIT,
      headersTimeout: HEADERS_TIMEOUT,
      requestTimeout: REQUEST_TIMEOUT,
      keepAliveTimeout: KEEP_ALIVE,
      maxConnections: MAX_CONNECTIONS,
    },
    auth: 'none',
    observability: { logLevel: 'warn', metrics: { enabled: false } },
    processes: {
      // Two replicas: a call that fails at the transport would be tried again on the other one.
      server: { services: ['accounts'], addresses: ports.map((p) => `http://127.0.0.1:${p}`) },
      caller: { services: [] },
    },
  };
  for (const replica of [0, 1]) {
    const server = await createApp(ledgerApp, {
      topology,
      process: 'server',
      replica,
      logDestination: { write: (line) => logs.push(JSON.parse(line)) },
    });
    servers.push(server);
    await server.start();
  }
  caller = await createApp(ledgerApp, { topology, process: 'caller' });
  await caller.start();
  port = ports[0]!;
  pool = new Pool(`http://127.0.0.1:${port}`, { connections: 2 });
});

afterAll(async () => {
  await pool?.close();
  await caller?.stop();
  await Promise.all(servers.map((s) => s.stop()));
});

const HEAD = 'POST /rpc/accounts/credit HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n';

async function creditThroughPool(amount: number): Promise<number> {
  const response = await pool.request({
    path: '/rpc/accounts/credit',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ account: 'a', amount }),
  });
  await response.body.text();
  return response.statusCode;
}

describe('timeouts', () => {
  it('cuts a client whose headers never finish within headersTimeout, with a coded 408', async () => {
    const slow = new RawClient(port);
    await slow.connected();
    await slow.write(HEAD);
    await waitFor(() => slow.closed, { timeout: 5_000, message: 'the server to close the connection' });
    const held = slow.closedAt! - slow.opened;
    expect(held).toBeGreaterThanOrEqual(HEADERS_TIMEOUT - 50);
    expect(held).toBeLessThan(HEADERS_TIMEOUT + SLACK);
    expect(slow.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(slow.received).toContain('x-content-type-options: nosniff');
    expect(slow.body().error?.code).toBe('TIMEOUT');
  });

  it('cuts a client that sends its headers one byte at a time: the bound is for all of them', async () => {
    const drip = new RawClient(port);
    await drip.connected();
    let i = 0;
    const timer = setInterval(() => {
      if (!drip.closed && i < HEAD.length) void drip.write(HEAD[i++]!);
    }, 20);
    try {
      await waitFor(() => drip.closed, { timeout: 5_000, message: 'the server to close the connection' });
    } finally {
      clearInterval(timer);
    }
    expect(drip.closedAt! - drip.opened).toBeLessThan(HEADERS_TIMEOUT + SLACK);
  });

  it('cuts a request whose body never completes within requestTimeout, before anything runs', async () => {
    const before = ledger.credits;
    const stalled = new RawClient(port);
    await stalled.connected();
    await stalled.write(`${HEAD}content-length: 100\r\n\r\n{"account":`);
    await waitFor(() => stalled.closed, { timeout: 5_000, message: 'the server to close the connection' });
    const held = stalled.closedAt! - stalled.opened;
    expect(held).toBeGreaterThanOrEqual(REQUEST_TIMEOUT - 50);
    expect(held).toBeLessThan(REQUEST_TIMEOUT + SLACK);
    expect(stalled.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(ledger.credits).toBe(before);
  });

  it('closes a keep-alive connection that stays idle for keepAliveTimeout', async () => {
    const idle = new RawClient(port);
    await idle.connected();
    const body = JSON.stringify({ account: 'a', amount: 1 });
    await idle.write(`${HEAD}content-length: ${body.length}\r\n\r\n${body}`);
    await waitFor(() => idle.received.includes('{"balance"'), { message: 'the answer' });
    const answered = Date.now();
    await waitFor(() => idle.closed, { timeout: 5_000, message: 'the server to close the idle connection' });
    // Node adds a buffer (keepAliveTimeoutBuffer, 1 s) to the timeout it announces to the client.
    expect(idle.closedAt! - answered).toBeLessThan(KEEP_ALIVE + 1_000 + SLACK);
    expect(idle.received).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('connections', () => {
  it('bounds thousands of idle connections at maxConnections, cuts them, and keeps serving', async () => {
    const clients: RawClient[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const opened = Array.from({ length: 200 }, () => new RawClient(port));
      clients.push(...opened);
      await Promise.all(opened.map((c) => c.connected().catch(() => undefined)));
    }
    // The server closes every connection over the bound as soon as it accepts it.
    await waitFor(() => clients.filter((c) => !c.closed).length <= MAX_CONNECTIONS, {
      timeout: 5_000,
      message: `at most ${MAX_CONNECTIONS} of 2,000 idle connections left open`,
    });
    // The ones it kept never send a request: headersTimeout cuts them.
    await waitFor(() => clients.every((c) => c.closed), {
      timeout: HEADERS_TIMEOUT + SLACK + 2_000,
      message: 'every idle connection closed',
    });
    // Most were dropped on accept, unanswered; the rest (the bound's worth per headersTimeout while the
    // batches connected) got a 408.
    const dropped = clients.filter((c) => c.received === '').length;
    expect(dropped).toBeGreaterThanOrEqual(1_500);
    expect(clients.filter((c) => c.received !== '').every((c) => c.received.startsWith('HTTP/1.1 408'))).toBe(
      true,
    );
    const before = ledger.credits;
    expect(await creditThroughPool(1)).toBe(200);
    expect(ledger.credits).toBe(before + 1);
  });
});

describe('bodies over the limit', () => {
  const refusals = () =>
    logs.filter((l) => l.msg === 'rpc request refused' && l.code === 'RPC_PAYLOAD_TOO_LARGE');

  it("answers Blueprint's own client 413 RPC_PAYLOAD_TOO_LARGE, once: a 413 is never tried again", async () => {
    const before = { credits: ledger.credits, refused: refusals().length };
    const huge = { account: 'a'.repeat(8 * 1024 * 1024), amount: 1 };
    for (let i = 0; i < 5; i++) {
      await expect(caller.client(Accounts).credit(huge)).rejects.toMatchObject({
        code: 'RPC_PAYLOAD_TOO_LARGE',
        status: 413,
      });
    }
    await waitFor(() => refusals().length >= before.refused + 5, { message: 'the refusals logged' });
    expect(refusals().length).toBe(before.refused + 5);
    expect(ledger.credits).toBe(before.credits);
    expect((await caller.client(Accounts).credit({ account: 'a', amount: 1 })).balance).toBeGreaterThan(0);
  });

  it('answers a streamed (chunked) body that grows past the limit with 413 through undici', async () => {
    async function* chunks() {
      yield Buffer.from('{"account":"');
      for (let i = 0; i < 512; i++) yield Buffer.alloc(4096, 'a');
      yield Buffer.from('","amount":1}');
    }
    const response = await pool.request({
      path: '/rpc/accounts/credit',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Readable.from(chunks()),
    });
    expect(response.statusCode).toBe(413);
    expect(((await response.body.json()) as { error: { code: string } }).error.code).toBe(
      'RPC_PAYLOAD_TOO_LARGE',
    );
  });

  it('answers a raw declared body before reading it, then reads the rest and closes without a reset', async () => {
    const before = ledger.credits;
    const raw = new RawClient(port);
    await raw.connected();
    const size = 4 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 'a');
    // Headers and body in one go, as an HTTP client sends them: the answer comes while it still sends.
    await raw.write(Buffer.concat([Buffer.from(`${HEAD}content-length: ${size}\r\n\r\n`), chunk]));
    for (let sent = chunk.length; sent < size && !raw.closed; sent += chunk.length) await raw.write(chunk);
    await waitFor(() => raw.closed, { message: 'the server to close the connection' });
    expect(raw.received).toMatch(/^HTTP\/1\.1 413 /);
    expect(raw.received.toLowerCase()).toContain('connection: close');
    expect(raw.body().error?.code).toBe('RPC_PAYLOAD_TOO_LARGE');
    // The server read what the caller declared and then closed cleanly: no reset, no broken pipe.
    expect(raw.ended).toBe(true);
    expect(raw.error).toBeUndefined();
    expect(ledger.credits).toBe(before);
  });

  it('answers a raw chunked body once it passes the limit, and closes within the linger bound', async () => {
    const raw = new RawClient(port);
    await raw.connected();
    await raw.write(`${HEAD}transfer-encoding: chunked\r\n\r\n`);
    const chunk = `1000\r\n${'a'.repeat(0x1000)}\r\n`;
    for (let i = 0; i < 3 && raw.received === ''; i++) await raw.write(chunk);
    await waitFor(() => raw.received.includes('}}'), { message: 'the 413' });
    expect(raw.received).toMatch(/^HTTP\/1\.1 413 /);
    expect(raw.body().error?.code).toBe('RPC_PAYLOAD_TOO_LARGE');
    // A caller that keeps the body open is not waited for forever.
    const answered = Date.now();
    await waitFor(() => raw.closed, { timeout: 5_000, message: 'the server to give up lingering' });
    expect(raw.closedAt! - answered).toBeLessThan(2_000 + 500);
  });

  it('keeps serving after all of the above', async () => {
    expect(await creditThroughPool(1)).toBe(200);
  });
});
