/**
 * The `tcp` RPC server against hostile and careless clients, on real sockets: every refusal is a coded
 * answer (or a connection closed with a reason) and the server keeps serving; its limits (body, head,
 * calls in flight, connections, preface, frame and idle timeouts) hold; calls are refused from their
 * head, before their body is decoded; `close()` answers the calls in flight and tells clients to go.
 */
import { connect, type Socket } from 'node:net';
import { UnauthenticatedError } from '@blueprint/core';
import { jsonCodec } from '@blueprint/core/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../../test/harness/index.js';
import { createTcpRpcClient } from '../../src/rpc/tcp/client.js';
import {
  type DecodedFrame,
  encodeCall,
  encodeControl,
  FrameDecoder,
  FrameType,
  PREFACE,
} from '../../src/rpc/tcp/frames.js';
import { startTcpRpcServer, type TcpRpcServerOptions } from '../../src/rpc/tcp/server.js';
import type { RefusedRpcRequest, RpcDispatcher, RpcServer } from '../../src/rpc/types.js';

/** What the test service did: calls run, slow calls aborted. */
const seen = { calls: 0, aborted: 0, inputs: [] as unknown[] };

/** A dispatcher of one service, `svc`: `echo` returns its input, `slow` waits for its release or abort. */
const releases: (() => void)[] = [];
const dispatcher: RpcDispatcher = {
  has: (service, method) => service === 'svc' && (method === 'echo' || method === 'slow'),
  dispatch(_service, method, input, context) {
    seen.calls++;
    seen.inputs.push(input);
    if (method === 'echo') return Promise.resolve(input);
    return new Promise((resolve, reject) => {
      releases.push(() => resolve('released'));
      context.signal?.addEventListener('abort', () => {
        seen.aborted++;
        reject(context.signal?.reason);
      });
    });
  },
};

const servers: RpcServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const release of releases.splice(0)) release();
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close(1_000)));
  seen.calls = 0;
  seen.aborted = 0;
  seen.inputs = [];
});

async function serve(options: Partial<TcpRpcServerOptions> = {}) {
  const refused: RefusedRpcRequest[] = [];
  const server = await startTcpRpcServer({
    dispatcher,
    host: '127.0.0.1',
    port: 0,
    readiness: async () => ({ ok: true, checks: {} }),
    onRefused: (refusal) => refused.push(refusal),
    ...options,
  });
  servers.push(server);
  const port = Number(/:(\d+)$/.exec(server.url)![1]);
  return { server, port, refused };
}

/** A raw connection speaking the frames by hand, recording every frame it receives. */
class RawTcp {
  readonly socket: Socket;
  readonly frames: DecodedFrame[] = [];
  prefaceOk: boolean | undefined;
  text = '';
  closed = false;
  private readonly decoder = new FrameDecoder(
    { bodyLimit: 1024 * 1024, headLimit: 1024 },
    (frame) =>
      this.frames.push({
        ...frame,
        head: Buffer.from(frame.head),
        body: frame.body && Buffer.from(frame.body),
      }),
    (matched) => {
      this.prefaceOk = matched;
    },
    () => undefined,
  );

  constructor(port: number) {
    this.socket = connect({ port, host: '127.0.0.1' });
    sockets.push(this.socket);
    this.socket.on('data', (chunk: Buffer) => {
      this.text += chunk.toString('latin1');
      this.decoder.push(chunk);
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
    });
  }

  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** Sends a call frame after the preface (sent once). */
  call(id: number, method: string, body: string, extra: { credential?: string; service?: string } = {}) {
    this.write(
      encodeCall({
        id,
        timeoutMs: 5_000,
        service: extra.service ?? 'svc',
        method,
        headers: { 'x-correlation-id': `c-${id}` },
        credential: extra.credential,
        body,
      }),
    );
  }

  /** Sends a DESCRIBE frame for `service` (the description of its contract). */
  describe(id: number, service: string, credential?: string) {
    this.write(
      encodeCall({
        type: FrameType.DESCRIBE,
        id,
        timeoutMs: 5_000,
        service,
        method: '',
        headers: undefined,
        credential,
        body: '',
      }),
    );
  }

  /** The answer to call `id`, once it came: its type and decoded body. */
  async answer(id: number): Promise<{ type: number; status?: number; body: any }> {
    await waitFor(() => this.frames.some((f) => f.id === id), {
      timeout: 5_000,
      message: `the answer to ${id}`,
    });
    const frame = this.frames.find((f) => f.id === id)!;
    return {
      type: frame.type,
      ...(frame.type === FrameType.ERROR ? { status: frame.head.readUInt16BE(0) } : {}),
      body: frame.body!.length === 0 ? undefined : jsonCodec.decode(frame.body!.toString()),
    };
  }

  /** Waits until the server closed the connection. */
  async closing(): Promise<void> {
    await waitFor(() => this.closed, { timeout: 5_000, message: 'the connection to close' });
  }
}

async function opened(port: number): Promise<RawTcp> {
  const raw = new RawTcp(port);
  raw.write(PREFACE);
  await waitFor(() => raw.prefaceOk !== undefined, { timeout: 5_000, message: 'the preface' });
  expect(raw.prefaceOk).toBe(true);
  return raw;
}

/** The server still serves: a well-formed call on a new connection is answered. */
async function stillServes(url: string): Promise<void> {
  const client = createTcpRpcClient({ url });
  try {
    expect(await client.call('svc', 'echo', { ok: true })).toEqual({ ok: true });
  } finally {
    await client.close();
  }
}

describe('tcp RPC server: hostile frames', () => {
  it('answers an HTTP request on its port with a 400 naming the transport, and closes', async () => {
    const { server, port } = await serve();
    const raw = new RawTcp(port);
    raw.write('GET /health/live HTTP/1.1\r\nhost: x\r\n\r\n');
    await raw.closing();
    expect(raw.text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(raw.text).toContain('"code":"RPC_BAD_REQUEST"');
    expect(raw.text).toContain("speaks Blueprint's tcp RPC, not HTTP");
    expect(seen.calls).toBe(0);
    await stillServes(server.url);
  });

  it('closes a connection whose preface is wrong, without an answer', async () => {
    const { server, port } = await serve();
    const raw = new RawTcp(port);
    raw.write('\x00\x01\x02\x03garbage');
    await raw.closing();
    expect(raw.text).toBe('');
    await stillServes(server.url);
  });

  it('closes, with a coded reason, a connection whose frame head is over the limit or cannot fit its length', async () => {
    const { server, port, refused } = await serve({ maxHeaderSize: 1024 });
    const big = await opened(port);
    big.call(1, 'echo', '{}', { credential: 'x'.repeat(2_000) });
    await big.closing();
    const why = await big.answer(0);
    expect(why).toMatchObject({ type: FrameType.ERROR, status: 400, body: { code: 'RPC_BAD_REQUEST' } });
    expect(why.body.message).toMatch(/frame head of \d+ bytes is over the limit of 1024/);

    const short = await opened(port);
    const frame = Buffer.alloc(11);
    frame.writeUInt32BE(7, 0); // 7 bytes after the length, yet a head of 500 bytes
    frame[4] = FrameType.CALL;
    frame.writeUInt32BE(1, 5);
    frame.writeUInt16BE(500, 9);
    short.write(frame);
    await short.closing();
    expect((await short.answer(0)).body.message).toMatch(/cannot hold its 500-byte head/);
    expect(seen.calls).toBe(0);
    expect(refused.every((r) => (r.error as { code: string }).code === 'RPC_BAD_REQUEST')).toBe(true);
    await stillServes(server.url);
  });

  it('closes a connection that sends a frame type only servers send, or reuses an id in flight', async () => {
    const { server, port } = await serve();
    const answerType = await opened(port);
    answerType.write(encodeControl(FrameType.RESULT, 9));
    await answerType.closing();
    expect((await answerType.answer(0)).body.message).toMatch(/frame type 5 is not one a client sends/);

    const reused = await opened(port);
    reused.call(1, 'slow', '{}');
    await waitFor(() => releases.length === 1, { timeout: 5_000, message: 'the slow call to start' });
    reused.call(1, 'echo', '{}');
    await reused.closing();
    expect((await reused.answer(0)).body.message).toMatch(/call id 1 is already in flight/);
    await waitFor(() => seen.aborted === 1, { timeout: 5_000, message: 'the slow call to be aborted' });
    await stillServes(server.url);
  });

  it('answers a malformed head, an unknown method, bad JSON and a polluting body with coded errors on the same connection', async () => {
    const { port } = await serve();
    const raw = await opened(port);
    const head = Buffer.from([0, 0, 0, 1, 200]); // a service name of 200 bytes that is not there
    const bad = Buffer.alloc(11 + head.length);
    bad.writeUInt32BE(7 + head.length, 0);
    bad[4] = FrameType.CALL;
    bad.writeUInt32BE(1, 5);
    bad.writeUInt16BE(head.length, 9);
    head.copy(bad, 11);
    raw.write(bad);
    raw.call(2, 'nope', '{}');
    raw.call(3, 'echo', '{"a":');
    raw.call(4, 'echo', '{"__proto__":{"polluted":true}}');
    raw.call(5, 'echo', '{"fine":1}');
    expect(await raw.answer(1)).toMatchObject({
      status: 400,
      body: { code: 'RPC_BAD_REQUEST', message: 'the call frame has a malformed head' },
    });
    expect(await raw.answer(2)).toMatchObject({ status: 404, body: { code: 'RPC_UNKNOWN_METHOD' } });
    expect(await raw.answer(3)).toMatchObject({ status: 400, body: { code: 'RPC_BAD_REQUEST' } });
    expect(await raw.answer(4)).toMatchObject({ status: 400, body: { code: 'RPC_BAD_REQUEST' } });
    expect(await raw.answer(5)).toEqual({ type: FrameType.RESULT, body: { fine: 1 } });
    expect(seen.inputs).toEqual([{ fine: 1 }]);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(raw.closed).toBe(false);
  });
});

describe('tcp RPC server: limits', () => {
  it('skips a body over the limit unread, answers 413, and serves the next call on the same connection', async () => {
    const { port } = await serve({ bodyLimit: 1024 });
    const raw = await opened(port);
    raw.call(1, 'echo', JSON.stringify({ pad: 'x'.repeat(5_000) }));
    raw.call(2, 'echo', '{"after":true}');
    expect(await raw.answer(1)).toMatchObject({
      status: 413,
      body: { code: 'RPC_PAYLOAD_TOO_LARGE', details: { limit: 1024 } },
    });
    expect(await raw.answer(2)).toEqual({ type: FrameType.RESULT, body: { after: true } });
    expect(seen.calls).toBe(1);
  });

  it('refuses an unauthenticated call from its head: its body is never decoded and nothing runs', async () => {
    const authenticate = (credential: string | undefined) => {
      if (credential !== 'good')
        throw new UnauthenticatedError('no valid credential', { details: { reason: 'missing' } });
      return { caller: 'front' };
    };
    const { port, refused } = await serve({ authenticate });
    const raw = await opened(port);
    raw.call(1, 'echo', '{ this is not JSON');
    raw.call(2, 'echo', '{"ok":1}', { credential: 'bad' });
    raw.call(3, 'echo', '{"ok":2}', { credential: 'good' });
    expect(await raw.answer(1)).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    expect(await raw.answer(2)).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    expect(await raw.answer(3)).toEqual({ type: FrameType.RESULT, body: { ok: 2 } });
    expect(seen.inputs).toEqual([{ ok: 2 }]);
    expect(refused.map((r) => [r.service, r.method, r.correlationId])).toEqual([
      ['svc', 'echo', 'c-1'],
      ['svc', 'echo', 'c-2'],
    ]);
  });

  it('answers calls over maxInFlight on one connection with REMOTE_UNAVAILABLE, without running them', async () => {
    const { port } = await serve({ maxInFlight: 2 });
    const raw = await opened(port);
    raw.call(1, 'slow', '{}');
    raw.call(2, 'slow', '{}');
    raw.call(3, 'slow', '{}');
    expect(await raw.answer(3)).toMatchObject({
      status: 503,
      body: { code: 'REMOTE_UNAVAILABLE', details: { reason: 'in-flight', limit: 2 } },
    });
    expect(seen.calls).toBe(2);
    for (const release of releases.splice(0)) release();
    expect(await raw.answer(1)).toEqual({ type: FrameType.RESULT, body: 'released' });
  });

  it('tells a connection over maxConnections why, and the caller sees REMOTE_UNAVAILABLE naming it', async () => {
    const { server, port } = await serve({ maxConnections: 1 });
    await opened(port);
    const client = createTcpRpcClient({ url: server.url });
    const error = await client.call('svc', 'echo', {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'REMOTE_UNAVAILABLE' });
    expect((error as Error).message).toMatch(/already has 1 connections open/);
    expect(seen.calls).toBe(0);
    await client.close();
  });

  it('closes a connection that sends no preface within headersTimeout, or leaves a frame unfinished past frameTimeout', async () => {
    const { server, port } = await serve({ headersTimeout: 150, frameTimeout: 150 });
    const silent = new RawTcp(port);
    await silent.closing();
    expect(silent.text).toBe('');

    const stalled = await opened(port);
    stalled.write(
      encodeCall({
        id: 1,
        timeoutMs: 1_000,
        service: 'svc',
        method: 'echo',
        headers: undefined,
        credential: undefined,
        body: '{"a":1}',
      }).subarray(0, 14),
    );
    await stalled.closing();
    expect((await stalled.answer(0)).body.message).toMatch(/not received whole within 150 ms/);
    expect(seen.calls).toBe(0);
    await stillServes(server.url);
  });

  it('asks an idle connection to go away (GOAWAY) after idleTimeout, and still answers calls sent meanwhile', async () => {
    const { server, port } = await serve({ idleTimeout: 150 });
    const raw = await opened(port);
    await waitFor(() => raw.frames.some((f) => f.type === FrameType.GOAWAY), {
      timeout: 5_000,
      message: 'GOAWAY',
    });
    raw.call(1, 'echo', '"late"');
    expect(await raw.answer(1)).toEqual({ type: FrameType.RESULT, body: 'late' });
    await stillServes(server.url);
  });

  it('answers a PING with PONG, saying whether it drains', async () => {
    const { port } = await serve();
    const raw = await opened(port);
    raw.write(encodeControl(FrameType.PING, 7));
    await waitFor(() => raw.frames.some((f) => f.id === 7), { timeout: 5_000, message: 'PONG' });
    const pong = raw.frames.find((f) => f.id === 7)!;
    expect(pong.type).toBe(FrameType.PONG);
    expect(pong.head[0]).toBe(0);
  });

  it('aborts the signal of a call its caller cancelled, and sends no answer for it', async () => {
    const { port } = await serve();
    const raw = await opened(port);
    raw.call(1, 'slow', '{}');
    await waitFor(() => releases.length === 1, { timeout: 5_000, message: 'the slow call to start' });
    raw.write(encodeControl(FrameType.CANCEL, 1));
    await waitFor(() => seen.aborted === 1, { timeout: 5_000, message: 'the abort' });
    raw.call(2, 'echo', '2');
    await raw.answer(2);
    expect(raw.frames.filter((f) => f.id === 1)).toEqual([]);
  });
});

describe('tcp RPC server: contract versions', () => {
  const description = { name: 'svc', version: 2, fingerprint: '0123456789abcdef', methods: {} };
  const described: RpcDispatcher = {
    ...dispatcher,
    describe: (service) => (service === 'svc' ? description : undefined),
    fingerprints: () => ({ svc: description.fingerprint }),
  };
  const authenticate = (credential: string | undefined) => {
    if (credential !== 'good') throw new UnauthenticatedError('no valid credential');
    return { caller: 'front' };
  };

  it('names the served fingerprints once, after the first authenticated call and before its answer', async () => {
    const { port } = await serve({ dispatcher: described, authenticate });
    const raw = await opened(port);
    raw.call(1, 'echo', '{"n":1}', { credential: 'bad' });
    expect(await raw.answer(1)).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    raw.call(2, 'echo', '{"n":2}', { credential: 'good' });
    raw.call(3, 'nope', '{}', { credential: 'good' });
    expect(await raw.answer(2)).toEqual({ type: FrameType.RESULT, body: { n: 2 } });
    expect(await raw.answer(3)).toMatchObject({ status: 404, body: { code: 'RPC_UNKNOWN_METHOD' } });
    const types = raw.frames.map((frame) => frame.type);
    expect(types.filter((type) => type === FrameType.CONTRACTS)).toHaveLength(1);
    const announced = types.indexOf(FrameType.CONTRACTS);
    expect(announced).toBeGreaterThan(types.indexOf(FrameType.ERROR));
    expect(announced).toBeLessThan(types.indexOf(FrameType.RESULT));
    expect(jsonCodec.decode(raw.frames[announced]!.body!.toString())).toEqual({
      svc: description.fingerprint,
    });
  });

  it('describes a hosted contract only to an authenticated caller, and names no other service', async () => {
    const { port } = await serve({ dispatcher: described, authenticate });
    const raw = await opened(port);
    raw.describe(1, 'svc');
    raw.describe(2, 'svc', 'forged');
    raw.describe(3, 'svc', 'good');
    raw.describe(4, 'orders', 'good');
    raw.describe(5, '__proto__', 'good');
    expect(await raw.answer(1)).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    expect(await raw.answer(2)).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    expect(await raw.answer(3)).toEqual({ type: FrameType.RESULT, body: description });
    for (const id of [4, 5]) {
      const refused = await raw.answer(id);
      expect(refused).toMatchObject({ status: 404, body: { code: 'RPC_UNKNOWN_METHOD' } });
      expect(JSON.stringify(refused.body)).not.toMatch(/orders|__proto__/);
    }
    expect(raw.closed).toBe(false);
    expect(seen.calls).toBe(0);
  });
});

describe('tcp RPC server: graceful close', () => {
  it('answers the calls in flight, sends GOAWAY, refuses new calls with REMOTE_UNAVAILABLE (draining), then closes', async () => {
    const { server, port } = await serve();
    const raw = await opened(port);
    raw.call(1, 'slow', '{}');
    await waitFor(() => releases.length === 1, { timeout: 5_000, message: 'the slow call to start' });
    const closed = server.close(5_000);
    await waitFor(() => raw.frames.some((f) => f.type === FrameType.GOAWAY), {
      timeout: 5_000,
      message: 'GOAWAY',
    });
    raw.call(2, 'echo', '{}');
    expect(await raw.answer(2)).toMatchObject({
      status: 503,
      body: { code: 'REMOTE_UNAVAILABLE', details: { reason: 'draining' } },
    });
    releases.shift()!();
    expect(await raw.answer(1)).toEqual({ type: FrameType.RESULT, body: 'released' });
    raw.socket.end();
    await closed;
    expect(seen.calls).toBe(1);
    await expect(createTcpRpcClient({ url: server.url }).call('svc', 'echo', {})).rejects.toMatchObject({
      code: 'REMOTE_UNAVAILABLE',
    });
  });

  it('a client with calls in flight finishes them, then closes its connection when told to go away', async () => {
    const { server } = await serve();
    const client = createTcpRpcClient({ url: server.url });
    const pending = client.call('svc', 'slow', {});
    await waitFor(() => releases.length === 1, { timeout: 5_000, message: 'the slow call to start' });
    const closed = server.close(5_000);
    setTimeout(() => releases.shift()?.(), 50);
    expect(await pending).toBe('released');
    await closed;
    await client.close();
  });
});
