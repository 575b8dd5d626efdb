import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { type BlueprintApp, createApp } from '@blueprint/core';
import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ledger, ledgerApp } from './fixtures/ledger-app.js';

const BODY_LIMIT = 4 * 1024;

let server: BlueprintApp;
let pool: Pool;
let origin: URL;

beforeAll(async () => {
  server = await createApp(ledgerApp, {
    topology: {
      app: './bank.js',
      rpc: { type: 'http', bodyLimit: BODY_LIMIT },
      observability: { logLevel: 'silent' },
      processes: { main: { services: ['accounts'], address: 'http://127.0.0.1:0' } },
    },
  });
  await server.start();
  origin = new URL(server.rpcUrl!);
  pool = new Pool(server.rpcUrl!, { connections: 4 });
});

afterAll(async () => {
  await pool?.close();
  await server?.stop();
});

let expectedCredits = 0;
afterEach(() => {
  expect(ledger.credits).toBe(expectedCredits);
});

interface Answer {
  status: number;
  body: { error?: { code: string; message: string; details?: unknown } } & Record<string, unknown>;
}

async function post(
  path: string,
  body: string | Readable | Buffer,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<Answer> {
  const response = await pool.request({ path, method: 'POST', headers, body });
  const text = await response.body.text();
  expect(response.headers['content-type']).toBe('application/json');
  return { status: response.statusCode, body: JSON.parse(text) };
}

function expectCoded(answer: Answer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.body.error).toMatchObject({ code, message: expect.any(String) });
}

describe('a well-formed call', () => {
  it('reaches the implementation (the control case)', async () => {
    const answer = await post('/rpc/accounts/credit', JSON.stringify({ account: 'a', amount: 5 }));
    expectedCredits = 1;
    expect(answer).toEqual({ status: 200, body: { balance: 5 } });
  });

  it('accepts a content type with parameters', async () => {
    const answer = await post('/rpc/accounts/credit', JSON.stringify({ account: 'a', amount: 1 }), {
      'content-type': 'Application/JSON; charset=utf-8',
    });
    expectedCredits = 2;
    expect(answer.status).toBe(200);
  });
});

describe('malformed and polluting bodies', () => {
  it('answers 400 RPC_BAD_REQUEST to malformed JSON', async () => {
    const answer = await post('/rpc/accounts/credit', '{"account": "a", "amount": ');
    expectCoded(answer, 400, 'RPC_BAD_REQUEST');
    expect(answer.body.error!.message).toContain('malformed or unsafe JSON');
  });

  it.each([
    ['a __proto__ key', '{"__proto__": {"polluted": true}, "account": "a", "amount": 1}'],
    ['a nested __proto__ key', '{"account": "a", "amount": 1, "meta": {"__proto__": {"polluted": true}}}'],
    [
      'constructor.prototype',
      '{"constructor": {"prototype": {"polluted": true}}, "account": "a", "amount": 1}',
    ],
  ])('answers 400 RPC_BAD_REQUEST to %s and leaves Object.prototype untouched', async (_name, body) => {
    const answer = await post('/rpc/accounts/credit', body);
    expectCoded(answer, 400, 'RPC_BAD_REQUEST');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('answers 400 RPC_BAD_REQUEST to an unknown codec tag under the reserved key', async () => {
    const answer = await post('/rpc/accounts/credit', '{"$bp": "function", "v": "alert(1)"}');
    expectCoded(answer, 400, 'RPC_BAD_REQUEST');
  });
});

describe('input of the wrong shape', () => {
  it('answers 400 VALIDATION_FAILED with the issues', async () => {
    const answer = await post('/rpc/accounts/credit', JSON.stringify({ account: 5, amount: 'ten' }));
    expectCoded(answer, 400, 'VALIDATION_FAILED');
    const details = answer.body.error!.details as { where: string; issues: { path: unknown[] }[] };
    expect(details.where).toBe('input');
    expect(details.issues.map((issue) => issue.path)).toEqual([['account'], ['amount']]);
  });

  it.each([
    ['an array', '[]'],
    ['a string', '"credit"'],
    ['an empty body', ''],
    ['a negative amount', '{"account": "a", "amount": -1}'],
  ])('answers 400 VALIDATION_FAILED to %s', async (_name, body) => {
    expectCoded(await post('/rpc/accounts/credit', body), 400, 'VALIDATION_FAILED');
  });
});

describe('oversized bodies', () => {
  const big = JSON.stringify({ account: 'a'.repeat(BODY_LIMIT), amount: 1 });

  it('answers 413 RPC_PAYLOAD_TOO_LARGE when content-length is over the limit', async () => {
    const answer = await post('/rpc/accounts/credit', big);
    expectCoded(answer, 413, 'RPC_PAYLOAD_TOO_LARGE');
    expect(answer.body.error!.details).toEqual({ limit: BODY_LIMIT });
  });

  it('answers 413 RPC_PAYLOAD_TOO_LARGE to a chunked body without content-length', async () => {
    async function* chunks() {
      for (let i = 0; i < 64; i++) yield Buffer.from(`${i === 0 ? '{"account":"' : ''}${'a'.repeat(1024)}`);
    }
    const answer = await post('/rpc/accounts/credit', Readable.from(chunks()));
    expectCoded(answer, 413, 'RPC_PAYLOAD_TOO_LARGE');
  });
});

describe('content types', () => {
  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['application/jsonp', { 'content-type': 'application/jsonp' }],
    ['a missing content-type', {} as Record<string, string>],
  ])('answers 415 RPC_UNSUPPORTED_MEDIA_TYPE to %s', async (_name, headers) => {
    const answer = await post('/rpc/accounts/credit', JSON.stringify({ account: 'a', amount: 1 }), headers);
    expectCoded(answer, 415, 'RPC_UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('unknown services and methods', () => {
  it.each([
    '/rpc/nobody/credit',
    '/rpc/accounts/debit',
    '/rpc/accounts/constructor',
    '/rpc/accounts/__proto__',
    '/rpc/accounts/toString',
    '/rpc/accounts/hasOwnProperty',
    '/rpc/__proto__/credit',
    '/rpc/constructor/credit',
    '/rpc/accounts',
    '/rpc/accounts/credit/extra',
    '/rpc/accounts/credit?x=1',
  ])('answers 404 RPC_UNKNOWN_METHOD to POST %s', async (path) => {
    const answer = await post(path, JSON.stringify({ account: 'a', amount: 1 }));
    expectCoded(answer, 404, 'RPC_UNKNOWN_METHOD');
  });

  it('answers 404 to a GET of a method', async () => {
    const response = await pool.request({ path: '/rpc/accounts/credit', method: 'GET' });
    expect(response.statusCode).toBe(404);
    expect(((await response.body.json()) as Answer['body']).error!.code).toBe('RPC_UNKNOWN_METHOD');
  });

  it('answers 400 RPC_BAD_REQUEST to malformed percent-encoding in the path', async () => {
    const answer = await post('/rpc/accounts/%E0%A4%A', JSON.stringify({ account: 'a', amount: 1 }));
    expectCoded(answer, 400, 'RPC_BAD_REQUEST');
  });
});

describe('broken connections', () => {
  it('survives a caller that hangs up in the middle of a body', async () => {
    const socket = connect(Number(origin.port), origin.hostname);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const request =
      'POST /rpc/accounts/credit HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"account":';
    await new Promise<void>((resolve) => socket.write(request, () => resolve()));
    socket.destroy();
    const live = await pool.request({ path: '/health/live', method: 'GET' });
    expect(live.statusCode).toBe(200);
    await live.body.text();
  });
});

describe('health routes', () => {
  it('answers /health/live and /health/ready with the bare status, and serves no /metrics', async () => {
    const live = await pool.request({ path: '/health/live', method: 'GET' });
    expect(live.statusCode).toBe(200);
    expect(await live.body.json()).toEqual({ status: 'ok' });
    const ready = await pool.request({ path: '/health/ready', method: 'GET' });
    expect(ready.statusCode).toBe(200);
    expect(await ready.body.json()).toEqual({ status: 'ok' });
    const metrics = await pool.request({ path: '/metrics', method: 'GET' });
    expect(metrics.statusCode).toBe(404);
    await metrics.body.text();
  });

  it('still serves calls after all of the above', async () => {
    const answer = await post('/rpc/accounts/credit', JSON.stringify({ account: 'a', amount: 2 }));
    expectedCredits = 3;
    expect(answer).toEqual({ status: 200, body: { balance: 8 } });
  });
});
