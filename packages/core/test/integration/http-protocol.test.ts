import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type BlueprintApp,
  type CallContext,
  createApp,
  defineApp,
  defineService,
  type ImplementationOf,
  isRemoteUnavailableError,
  isTimeoutError,
  NotFoundError,
  service,
} from '@blueprint/core';
import { createHttpRpcClient, PROPAGATED_HEADERS, TIMEOUT_HEADER } from '@blueprint/core/rpc';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

const Probe = defineService('probe', {
  context: {
    input: z.void(),
    output: z.object({ remainingMs: z.number().nullable(), headers: z.record(z.string(), z.string()) }),
  },
  wait: { input: z.void(), output: z.void() },
  missing: { input: z.object({ id: z.string() }), output: z.void() },
  big: { input: z.object({ size: z.number() }), output: z.string() },
});

class ProbeService implements ImplementationOf<typeof Probe> {
  async context(_input: unknown, context?: CallContext) {
    const deadline = context?.deadline;
    return {
      remainingMs: deadline === undefined ? null : deadline - Date.now(),
      headers: { ...context?.headers },
    };
  }
  async wait(_input: unknown, context?: CallContext) {
    await new Promise((_resolve, reject) => {
      context?.signal?.addEventListener('abort', () => reject(context.signal!.reason));
    });
  }
  async missing({ id }: { id: string }): Promise<void> {
    throw new NotFoundError(`no probe ${id}`, { details: { id } });
  }
  async big({ size }: { size: number }) {
    return 'x'.repeat(size);
  }
}

let server: BlueprintApp;
let pool: Pool;
const extraServers: Server[] = [];

beforeAll(async () => {
  server = await createApp(defineApp({ name: 'probe', services: [service(Probe, ProbeService)] }), {
    topology: {
      app: './probe.js',
      rpc: { type: 'http' },
      auth: 'none',
      processes: { main: { services: ['probe'], address: 'http://127.0.0.1:0' } },
    },
  });
  await server.start();
  pool = new Pool(server.rpcUrl!);
});

afterAll(async () => {
  await pool?.close();
  await server?.stop();
  for (const extra of extraServers) extra.close();
});

async function rawServer(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const raw = createServer(handler);
  extraServers.push(raw);
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
}

describe('the wire protocol', () => {
  it('ends a call whose x-bp-timeout-ms passed with 504 TIMEOUT, from the server itself', async () => {
    const response = await pool.request({
      path: '/rpc/probe/wait',
      method: 'POST',
      headers: { 'content-type': 'application/json', [TIMEOUT_HEADER]: '50' },
    });
    expect(response.statusCode).toBe(504);
    expect(await response.body.json()).toEqual({
      error: { code: 'TIMEOUT', message: "the caller's deadline passed" },
    });
  });

  it('answers coded errors as { error: { code, message, details } } with their HTTP status', async () => {
    const response = await pool.request({
      path: '/rpc/probe/missing',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'p1' }),
    });
    expect(response.statusCode).toBe(404);
    expect(await response.body.json()).toEqual({
      error: { code: 'NOT_FOUND', message: 'no probe p1', details: { id: 'p1' } },
    });
  });

  it('sends the remaining time and the propagated headers, nothing else', async () => {
    const client = createHttpRpcClient({ url: server.rpcUrl!, timeout: 5_000 });
    const headers = Object.fromEntries(PROPAGATED_HEADERS.map((name) => [name, `${name}-value`]));
    const seen = (await client.call('probe', 'context', undefined, {
      headers: { ...headers, authorization: 'secret' },
    })) as { remainingMs: number; headers: Record<string, string> };
    expect(seen.headers).toEqual(headers);
    expect(seen.remainingMs).toBeGreaterThan(3_000);
    expect(seen.remainingMs).toBeLessThanOrEqual(5_000);
    await client.close();
  });

  it('fails fast with TIMEOUT when the deadline already passed, without sending', async () => {
    const client = createHttpRpcClient({ url: 'http://127.0.0.1:1' });
    const error = await client
      .call('probe', 'wait', undefined, { deadline: Date.now() - 1 })
      .catch((e: unknown) => e);
    expect(isTimeoutError(error)).toBe(true);
    await client.close();
  });
});

describe('the client refuses what it cannot trust', () => {
  it('refuses a response over its body limit, declared or chunked', async () => {
    const limited = createHttpRpcClient({ url: server.rpcUrl!, bodyLimit: 1_000 });
    const declared = await limited.call('probe', 'big', { size: 5_000 }).catch((e: unknown) => e);
    expect(isRemoteUnavailableError(declared)).toBe(true);
    expect((declared as Error).message).toContain('over the limit of 1000');
    await limited.close();

    const chunkedUrl = await rawServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 10; i++) response.write(`${i === 0 ? '"' : ''}${'y'.repeat(500)}`);
      response.end('"');
    });
    const chunkedClient = createHttpRpcClient({ url: chunkedUrl, bodyLimit: 1_000 });
    const chunked = await chunkedClient.call('probe', 'big', { size: 1 }).catch((e: unknown) => e);
    expect(isRemoteUnavailableError(chunked)).toBe(true);
    await chunkedClient.close();
  });

  it('turns an answer without a coded error into REMOTE_UNAVAILABLE with the status', async () => {
    const url = await rawServer((_request, response) => {
      response.writeHead(502, { 'content-type': 'text/html' });
      response.end('<h1>Bad gateway</h1>');
    });
    const client = createHttpRpcClient({ url });
    const error = await client.call('probe', 'wait', undefined).catch((e: unknown) => e);
    expect(isRemoteUnavailableError(error)).toBe(true);
    expect((error as { details: unknown }).details).toEqual({ status: 502 });
    await client.close();
  });

  it('reports a refused connection as REMOTE_UNAVAILABLE naming the address, and a failed ping', async () => {
    const client = createHttpRpcClient({ url: 'http://127.0.0.1:1' });
    const error = await client.call('probe', 'wait', undefined).catch((e: unknown) => e);
    expect(isRemoteUnavailableError(error)).toBe(true);
    expect((error as Error).message).toContain('http://127.0.0.1:1 cannot be reached (ECONNREFUSED)');
    expect(await client.ping()).toMatchObject({ ok: false });
    await client.close();
  });
});
