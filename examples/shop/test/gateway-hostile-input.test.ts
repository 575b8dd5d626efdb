/**
 * Hostile requests to the shop's public gateway (the monolith, so the gateway is what is tested): long
 * path parameters, hostile correlation ids, oversized headers and bodies (a 413 closes gracefully), deep
 * JSON nesting, slow and idle clients (header, request and keep-alive timeouts), a burst over the rate
 * limit, and a `payment.failed` about an order that is already paid. Then the split shop with its
 * secret: raw calls to a products replica without a valid credential (401, nothing changes), and a forged
 * `payment.succeeded` written straight into the Redis stream (dead-lettered; the order is declined). Each gets a coded 4xx in the shop's error shape (or a
 * closed connection for the slow and idle ones), no answer carries a stack trace or a file path, the
 * catalog's stock does not move, and the gateway keeps serving.
 */
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { createApp } from '@blueprint/core';
import { EventsTokens } from '@blueprint/events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { getFreePort, getFreePortRange, waitFor } from '../../../test/harness/index.js';
import { app } from '../src/app.js';
import { PaymentFailed } from '../src/payments/events.js';
import { type SplitShop, startSplit, TOPOLOGY } from './support/shop-under-test.js';

const HEADERS_TIMEOUT = 300;
const REQUEST_TIMEOUT = 600;
const MAX_CONNECTIONS = 50;
const KEEP_ALIVE_TIMEOUT = 400;

async function startShop(settings: Record<string, string | number>) {
  const port = await getFreePort();
  const topology = JSON.parse(await readFile(TOPOLOGY.monolith, 'utf8')) as Record<string, unknown>;
  const lines: string[] = [];
  const shop = await createApp(app, {
    topology: {
      ...topology,
      settings: { port, dataDir: ':memory:', ...settings },
      admin: { port: 0 },
    },
    logDestination: { write: (line) => void lines.push(line) },
  });
  await shop.start();
  return { shop, port, baseUrl: `http://127.0.0.1:${port}`, logs: () => lines.join('') };
}

let main: Awaited<ReturnType<typeof startShop>>;
/** Every answer body received, checked for internal text at the end. */
const answers: string[] = [];

beforeAll(async () => {
  main = await startShop({
    headersTimeout: HEADERS_TIMEOUT,
    requestTimeout: REQUEST_TIMEOUT,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT,
    maxConnections: MAX_CONNECTIONS,
  });
}, 30_000);
afterAll(async () => {
  await main?.shop.stop();
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  error: { code: string; message: string; details?: Record<string, unknown> } | undefined;
}

async function call(
  method: string,
  path: string,
  init: { body?: string; headers?: Record<string, string>; baseUrl?: string } = {},
): Promise<Answer> {
  const response = await fetch(`${init.baseUrl ?? main.baseUrl}${path}`, {
    method,
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  answers.push(text);
  let error: Answer['error'];
  try {
    error = (JSON.parse(text) as { error?: Answer['error'] }).error;
  } catch {
    error = undefined;
  }
  return { status: response.status, headers: response.headers, text, error };
}

function expectCoded(answer: Answer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.error).toMatchObject({ code, message: expect.any(String) });
  expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
}

async function stock(): Promise<Record<string, number>> {
  const products = JSON.parse((await call('GET', '/products')).text) as { id: string; stock: number }[];
  return Object.fromEntries(products.map((p) => [p.id, p.stock]));
}

/** A raw connection to the gateway that records what it receives and when it closed. */
function rawClient() {
  const socket: Socket = connect(main.port, '127.0.0.1');
  const state = {
    socket,
    received: '',
    closedAt: undefined as number | undefined,
    opened: Date.now(),
    /** The server ended the connection gracefully (a FIN). */
    ended: false,
    /** The socket's error code, e.g. `ECONNRESET` for a connection reset. */
    error: undefined as string | undefined,
  };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    state.received += chunk;
  });
  socket.on('end', () => {
    state.ended = true;
  });
  socket.on('error', (error: NodeJS.ErrnoException) => {
    state.error = error.code ?? error.message;
  });
  socket.on('close', () => {
    state.closedAt = Date.now();
  });
  const connected = new Promise<void>((resolve) => {
    socket.once('connect', () => resolve());
    socket.once('error', () => resolve());
  });
  return Object.assign(state, { connected });
}

let catalog: Record<string, number>;
beforeAll(async () => {
  catalog = await stock();
});

describe('paths and ids', () => {
  it('answers a 300-character path parameter in the shop error shape, not Fastify’s', async () => {
    const answer = await call('GET', `/products/${'p'.repeat(300)}`);
    expectCoded(answer, 414, 'URI_TOO_LONG');
    expect(answer.text).not.toContain('FST_');
    expect(answer.text).not.toContain('p'.repeat(300));
  });

  it('answers malformed percent-encoding in the shop error shape', async () => {
    const answer = await call('GET', '/products/%E0%A4%A');
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(answer.error?.code).toMatch(/^[A-Z_]+$/);
    expect(answer.text).not.toContain('FST_');
  });

  it.each([
    ['4,000 characters', 'a'.repeat(4_000)],
    ['markup', '<img src=x onerror=alert(1)>'],
    ['quotes', `"'; DROP TABLE orders; --`],
  ])(
    'replaces a correlation id of %s with a fresh one, in the answer and the logs',
    async (_name, hostile) => {
      const answer = await call('GET', '/products/p-mouse', { headers: { 'x-correlation-id': hostile } });
      expect(answer.status).toBe(200);
      const fresh = answer.headers.get('x-correlation-id')!;
      expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
      await waitFor(() => main.logs().includes(fresh), { message: 'the fresh id in the request log' });
      expect(main.logs()).not.toContain(hostile);
    },
  );

  it('keeps a valid correlation id', async () => {
    const answer = await call('GET', '/products', { headers: { 'x-correlation-id': 'req-42.a:b' } });
    expect(answer.headers.get('x-correlation-id')).toBe('req-42.a:b');
  });
});

describe('headers and bodies', () => {
  it('answers headers over 16 KiB with 431 HEADERS_TOO_LARGE', async () => {
    const raw = rawClient();
    await raw.connected;
    raw.socket.write(`GET /products HTTP/1.1\r\nhost: x\r\nx-big: ${'b'.repeat(20 * 1024)}\r\n\r\n`);
    await waitFor(() => raw.closedAt !== undefined, { message: 'the answer' });
    answers.push(raw.received);
    expect(raw.received).toMatch(/^HTTP\/1\.1 431 /);
    expect(raw.received).toContain('"code":"HEADERS_TOO_LARGE"');
    expect(raw.received).toContain('x-content-type-options: nosniff');
  });

  it('refuses a declared body over the limit before it is sent', async () => {
    const raw = rawClient();
    await raw.connected;
    raw.socket.write(
      `POST /orders HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${50 * 1024 * 1024}\r\n\r\n`,
    );
    await waitFor(() => raw.received.includes('}}'), { message: 'the 413' });
    answers.push(raw.received);
    expect(raw.received).toMatch(/^HTTP\/1\.1 413 /);
    expect(raw.received).toContain('"code":"PAYLOAD_TOO_LARGE"');
    raw.socket.destroy();
  });

  it('answers a body over the limit with 413 and closes gracefully while it is still being sent', async () => {
    const raw = rawClient();
    await raw.connected;
    const size = 512 * 1024;
    raw.socket.write(
      `POST /orders HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${size}\r\n\r\n`,
    );
    // The client keeps sending after the answer, as a client that does not read it would.
    const chunk = 'x'.repeat(16 * 1024);
    for (let sent = 0; sent < size && raw.closedAt === undefined; sent += chunk.length) {
      await new Promise<void>((resolve) => raw.socket.write(chunk, () => resolve()));
    }
    await waitFor(() => raw.closedAt !== undefined, { timeout: 5_000, message: 'the connection closed' });
    answers.push(raw.received);
    expect(raw.received).toMatch(/^HTTP\/1\.1 413 /);
    expect(raw.received.toLowerCase()).toContain('connection: close');
    expect(raw.received).toContain('"code":"PAYLOAD_TOO_LARGE"');
    expect(raw.ended).toBe(true);
    expect(raw.error).toBeUndefined();
  });

  it('refuses a streamed body over the limit', async () => {
    const answer = await call('POST', '/orders', {
      body: JSON.stringify({ productId: 'p-mouse', quantity: 1, note: 'n'.repeat(100 * 1024) }),
    });
    expectCoded(answer, 413, 'PAYLOAD_TOO_LARGE');
  });

  it.each([
    ['arrays', `{"productId":"p-mouse","quantity":${'['.repeat(20_000)}${']'.repeat(20_000)}}`],
    ['objects', `{"productId":"p-mouse","quantity":1,"x":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`],
  ])('answers deeply nested %s with a coded 400', async (_name, body) => {
    const answer = await call('POST', '/orders', { body });
    expect(answer.status).toBe(400);
    expect(answer.error?.code).toMatch(/^(VALIDATION_FAILED|MALFORMED_JSON)$/);
    expect(answer.text).not.toMatch(/RangeError|call stack/);
  });

  it('answers malformed JSON and a __proto__ key with 400 MALFORMED_JSON', async () => {
    expectCoded(await call('POST', '/orders', { body: '{"productId": ' }), 400, 'MALFORMED_JSON');
    expectCoded(
      await call('POST', '/orders', { body: '{"__proto__":{"x":1},"productId":"p-mouse","quantity":1}' }),
      400,
      'MALFORMED_JSON',
    );
  });
});

describe('slow and idle clients', () => {
  it('closes a client whose headers never finish within headersTimeout', async () => {
    const raw = rawClient();
    await raw.connected;
    raw.socket.write('GET /products HTTP/1.1\r\nhost: x\r\nx-slow: ');
    await waitFor(() => raw.closedAt !== undefined, { timeout: 5_000, message: 'the slow client cut' });
    answers.push(raw.received);
    expect(raw.closedAt! - raw.opened).toBeLessThan(HEADERS_TIMEOUT + 1_000);
    expect(raw.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(raw.received).toContain('"code":"REQUEST_TIMEOUT"');
  });

  it('closes a client whose body never completes within requestTimeout', async () => {
    const raw = rawClient();
    await raw.connected;
    raw.socket.write(
      'POST /orders HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"productId":',
    );
    await waitFor(() => raw.closedAt !== undefined, { timeout: 5_000, message: 'the stalled body cut' });
    answers.push(raw.received);
    expect(raw.closedAt! - raw.opened).toBeLessThan(REQUEST_TIMEOUT + 1_000);
  });

  it('closes a keep-alive connection that stays idle for keepAliveTimeout', async () => {
    const raw = rawClient();
    await raw.connected;
    raw.socket.write('GET /products/p-mouse HTTP/1.1\r\nhost: x\r\n\r\n');
    await waitFor(() => raw.received.includes('"p-mouse"'), { message: 'the answer' });
    const answeredAt = Date.now();
    expect(raw.received).toMatch(/^HTTP\/1\.1 200 /);
    await waitFor(() => raw.closedAt !== undefined, {
      timeout: 5_000,
      message: 'the idle connection closed',
    });
    // Idle connections are checked about once a second; the default (4 s) would be well past this bound.
    expect(raw.closedAt! - answeredAt).toBeLessThan(KEEP_ALIVE_TIMEOUT + 2_000);
    expect(raw.ended).toBe(true);
  });

  it('bounds 2,000 idle connections at maxConnections and closes them all', async () => {
    const clients: ReturnType<typeof rawClient>[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const opened = Array.from({ length: 200 }, () => rawClient());
      clients.push(...opened);
      await Promise.all(opened.map((c) => c.connected));
    }
    await waitFor(() => clients.filter((c) => c.closedAt === undefined).length <= MAX_CONNECTIONS, {
      message: `at most ${MAX_CONNECTIONS} idle connections open`,
    });
    await waitFor(() => clients.every((c) => c.closedAt !== undefined), {
      timeout: HEADERS_TIMEOUT + 3_000,
      message: 'every idle connection closed',
    });
    expect((await call('GET', '/health/live')).status).toBe(200);
  });
});

describe('rate limit', () => {
  it('is off by default', async () => {
    // 60 requests in a few bursts (each within maxConnections): none is limited.
    for (let burst = 0; burst < 3; burst++) {
      const burstAnswers = await Promise.all(
        Array.from({ length: 20 }, () => call('GET', '/products/p-mouse')),
      );
      expect(burstAnswers.every((a) => a.status === 200)).toBe(true);
    }
  });

  it('answers a burst over settings.rateLimit with 429 RATE_LIMITED, and never limits the probes', async () => {
    const limited = await startShop({ rateLimit: 5, rateLimitWindow: '1m' });
    try {
      const answers429: Answer[] = [];
      for (let i = 0; i < 8; i++) {
        const answer = await call('GET', '/products/p-mouse', { baseUrl: limited.baseUrl });
        if (i < 5) expect(answer.status).toBe(200);
        else answers429.push(answer);
      }
      for (const answer of answers429) {
        expectCoded(answer, 429, 'RATE_LIMITED');
        expect(answer.error!.details).toMatchObject({ limit: 5, retryAfterMs: expect.any(Number) });
        expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
      }
      const probe = await call('GET', '/health/ready', { baseUrl: limited.baseUrl });
      expect(probe.status).toBe(200);
    } finally {
      await limited.shop.stop();
    }
  });
});

describe('payment events about a settled order', () => {
  it('a payment.failed for a paid order neither declines it nor releases its stock', async () => {
    const other = await startShop({});
    try {
      const baseUrl = other.baseUrl;
      const keyboards = async () =>
        (JSON.parse((await call('GET', '/products/p-keyboard', { baseUrl })).text) as { stock: number })
          .stock;
      const statusOf = async (id: string) =>
        (JSON.parse((await call('GET', `/orders/${id}`, { baseUrl })).text) as { status: string }).status;
      const placed = await call('POST', '/orders', {
        body: JSON.stringify({ productId: 'p-keyboard', quantity: 2 }),
        baseUrl,
      });
      expect(placed.status).toBe(201);
      const id = (JSON.parse(placed.text) as { id: string }).id;
      await waitFor(async () => (await statusOf(id)) === 'paid', { message: 'the order to be paid' });
      const reserved = await keyboards();

      const bus = other.shop.resolve(EventsTokens.Bus);
      const handled = () =>
        bus.stats().subscriptions.find((s) => s.group === 'orders' && s.event === PaymentFailed.name)
          ?.handled ?? 0;
      const was = handled();
      await bus.publish(PaymentFailed, { orderId: id, reason: 'a late or forged decline' });
      await waitFor(() => handled() === was + 1, { message: 'the payment.failed to be handled' });
      expect(await statusOf(id)).toBe('paid');
      expect(await keyboards()).toBe(reserved);
    } finally {
      await other.shop.stop();
    }
  });
});

describe('the split shop, with its secret (hostile writes to RPC ports and to Redis)', () => {
  let split: SplitShop;
  let redis: Redis;
  let productsPort: number;
  let paymentsPort: number;

  beforeAll(async () => {
    productsPort = await getFreePortRange(2);
    paymentsPort = await getFreePort();
    split = await startSplit(inject('redisUrl'), {
      env: { PRODUCTS_PORT: String(productsPort), PAYMENTS_PORT: String(paymentsPort) },
    });
    redis = new Redis(inject('redisUrl'));
  }, 90_000);
  afterAll(async () => {
    await redis?.quit();
    await split?.stop();
  }, 30_000);

  const stockOf = async (id: string): Promise<number> =>
    (await split.request('GET', `/products/${id}`)).body.stock;

  it.each([
    ['without a credential', {}],
    [
      'with a made-up credential',
      { 'x-bp-credential': `bp1.gateway.products.9999999999.${'a'.repeat(16)}.${'b'.repeat(43)}` },
    ],
  ])('refuses a raw call to a products replica %s with 401, and changes nothing', async (_name, headers) => {
    const before = await stockOf('p-mouse');
    for (const port of [productsPort, productsPort + 1]) {
      const response = await fetch(`http://127.0.0.1:${port}/rpc/products/reserve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ orderId: 'o-raw', productId: 'p-mouse', quantity: 100 }),
      });
      const text = await response.text();
      answers.push(text);
      expect(response.status).toBe(401);
      expect((JSON.parse(text) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    }
    expect(await stockOf('p-mouse')).toBe(before);
  });

  it('dead-letters a forged payment.succeeded for a declined order: it ends payment_failed with its stock back', async () => {
    const before = await stockOf('p-server');
    const placed = await split.request('POST', '/orders', { productId: 'p-server', quantity: 1 });
    expect(placed.status).toBe(201);
    const orderId = placed.body.id as string;
    const forged = `{"id":"forged-${orderId}","name":"payment.succeeded","version":1,"occurredAt":{"$bp":"date","v":"${new Date().toISOString()}"},"headers":{},"payload":{"orderId":"${orderId}","paymentId":"pay-forged","amountCents":${placed.body.totalCents}}}`;
    await redis.xadd('bp:shop:{payment.succeeded}', '*', 'e', forged);

    await waitFor(
      async () =>
        Object.values(await redis.hgetall('bp:shop:{payment.succeeded}:dead')).some((r) =>
          r.includes(orderId),
        ),
      { timeout: 15_000, message: 'the forged event to be dead-lettered' },
    );
    const letter = Object.values(await redis.hgetall('bp:shop:{payment.succeeded}:dead')).find((r) =>
      r.includes(orderId),
    )!;
    expect(letter).toContain('"kind":"signature"');
    await waitFor(
      async () => (await split.request('GET', `/orders/${orderId}`)).body.status === 'payment_failed',
      {
        timeout: 15_000,
        message: 'the order to be declined',
      },
    );
    await waitFor(async () => (await stockOf('p-server')) === before, {
      timeout: 10_000,
      message: 'the stock to come back',
    });
    expect((await split.request('GET', `/orders/${orderId}`)).body.status).toBe('payment_failed');
  });
});

describe('afterwards', () => {
  it('no answer carried a stack trace or a file path, and the stock did not move', async () => {
    expect(answers.length).toBeGreaterThan(15);
    for (const text of answers) {
      expect(text).not.toMatch(/\n\s+at |\.[cm]?[jt]s:\d+|\/work\/|node_modules|file:\/\//);
    }
    expect(await stock()).toEqual(catalog);
  });

  it('keeps serving', async () => {
    const placed = await call('POST', '/orders', {
      body: JSON.stringify({ productId: 'p-mouse', quantity: 1 }),
    });
    expect(placed.status).toBe(201);
  });
});
