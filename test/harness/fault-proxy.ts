/**
 * A small fault-injecting TCP proxy for fault tests (a local stand-in for toxiproxy).
 *
 * Point a client at the proxy instead of the server, then switch modes while the test runs:
 *
 * | mode        | new connections                          | existing connections                         |
 * |-------------|------------------------------------------|----------------------------------------------|
 * | `pass`      | relayed both ways                        | relayed (held data is released)              |
 * | `latency`   | each chunk delayed by `latency` ms, each direction, order kept | same                   |
 * | `blackhole` | accepted, nothing forwarded or answered  | reading paused both ways: nothing forwarded  |
 * | `refuse`    | `ECONNREFUSED` (the listener is closed)  | left alone, still relayed                    |
 * | `reset`     | accepted, then reset (`ECONNRESET`)      | reset at once                                |
 *
 * A blackhole pauses reading instead of dropping data, like a network partition: bytes wait in the
 * kernel buffers and flow again once the mode leaves `blackhole`, so a connection that outlived the
 * partition is not corrupted. `refuse` really closes the listening socket and binds the same port again
 * when the mode changes back (Node sets `SO_REUSEADDR`, so the re-bind is reliable on Linux; should the
 * port have been taken meanwhile, `setMode` retries for a second and then rejects).
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LOOPBACK } from './servers.js';

/** What the proxy does with connections; see the table in this module's doc comment. */
export type FaultMode = 'pass' | 'latency' | 'blackhole' | 'refuse' | 'reset';

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The real server the proxy relays to. */
  target: { host: string; port: number };
  /** Port to listen on (on `127.0.0.1`). Default: a free port. */
  listenPort?: number;
  /** Initial mode. Default `'pass'`. */
  mode?: FaultMode;
  /** Delay in ms applied to every chunk in each direction while in `latency` mode. Default `0`. */
  latency?: number;
}

/** A running fault proxy. */
export interface FaultProxy {
  /** The address the proxy listens on (`127.0.0.1`). */
  readonly host: string;
  /** The port the proxy listens on; stable across modes, `refuse` included. */
  readonly port: number;
  /** The current mode. */
  readonly mode: FaultMode;
  /** The delay of `latency` mode, in ms. */
  readonly latency: number;
  /** Client connections currently open through the proxy. */
  readonly connections: number;
  /** `${scheme}://127.0.0.1:${port}`, e.g. `proxy.url('redis')`. */
  url(scheme: string): string;
  /** Switches mode; resolves once the listener is closed (`refuse`) or listening again. */
  setMode(mode: FaultMode): Promise<void>;
  /** Sets the delay used in `latency` mode (does not change the mode). Affects chunks received from now on. */
  setLatency(ms: number): void;
  /** Destroys every connection and the listener; resolves when no socket of the proxy is left open. */
  close(): Promise<void>;
  /** Same as `close()`, for `await using proxy = await startFaultProxy(...)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a fault proxy in front of `target` on a loopback port.
 *
 * @example
 * const proxy = await startFaultProxy({ target: { host: redis.host, port: redis.port } });
 * const client = new Redis(proxy.url('redis'));
 * await proxy.setMode('blackhole'); // commands now hang until they time out
 * await proxy.setMode('pass');
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = new TcpFaultProxy(options);
  await proxy.listen(options.listenPort ?? 0);
  return proxy;
}

class TcpFaultProxy implements FaultProxy {
  readonly host = LOOPBACK;
  port = 0;
  mode: FaultMode;
  latency: number;
  private server: Server | undefined;
  private readonly links = new Set<Link>();
  private readonly listeners = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly options: FaultProxyOptions) {
    this.mode = options.mode ?? 'pass';
    this.latency = options.latency ?? 0;
  }

  get connections(): number {
    return this.links.size;
  }

  url(scheme: string): string {
    return `${scheme}://${this.host}:${this.port}`;
  }

  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`latency must be a finite number >= 0, got ${ms}`);
    this.latency = ms;
  }

  async setMode(mode: FaultMode): Promise<void> {
    if (this.closed) throw new Error('the fault proxy is closed');
    this.mode = mode;
    if (mode === 'refuse') this.stopListening();
    else if (this.server === undefined) await this.listenWithRetry();
    for (const link of this.links) {
      if (mode === 'reset') link.reset();
      else link.sync();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopListening();
    const closing = [...this.links].map((link) => link.closed);
    for (const link of this.links) link.destroy();
    await Promise.all([...closing, ...this.listeners]);
    // 'close' events can run before libuv's close callback of the listener; let that phase finish.
    await new Promise((resolve) => setImmediate(resolve));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Binds `port` (0: any free port) and records the port actually bound. */
  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
      const failed = (error: Error) => reject(error);
      server.once('error', failed);
      server.listen(port, this.host, () => {
        server.off('error', failed);
        server.on('error', () => undefined);
        // A closed listener emits 'close' only once its last connection is gone; close() waits for that.
        const closed = new Promise<void>((done) => server.once('close', () => done()));
        this.listeners.add(closed);
        void closed.then(() => this.listeners.delete(closed));
        const address = server.address();
        if (address !== null && typeof address === 'object') this.port = address.port;
        this.server = server;
        resolve();
      });
    });
  }

  private async listenWithRetry(): Promise<void> {
    const deadline = Date.now() + 1_000;
    for (;;) {
      try {
        return await this.listen(this.port);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  private stopListening(): void {
    // close() stops accepting at once; its callback would wait for open connections, so it is not awaited.
    this.server?.close();
    this.server = undefined;
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.closed || this.mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const link = new Link(client, this.options.target, this);
    this.links.add(link);
    void link.closed.then(() => this.links.delete(link));
  }
}

/** One client connection and its upstream connection to the target. */
class Link {
  readonly closed: Promise<void>;
  private readonly upstream: Socket;
  private readonly toServer: Direction;
  private readonly toClient: Direction;

  constructor(
    private readonly client: Socket,
    target: { host: string; port: number },
    proxy: TcpFaultProxy,
  ) {
    this.upstream = tcpConnect({ host: target.host, port: target.port, allowHalfOpen: true });
    this.toServer = new Direction(client, this.upstream, proxy);
    this.toClient = new Direction(this.upstream, client, proxy);
    const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const upstreamClosed = new Promise<void>((resolve) => this.upstream.once('close', () => resolve()));
    this.closed = Promise.all([clientClosed, upstreamClosed]).then(() => undefined);
    this.upstream.on('error', () => {
      // The target is down or reset us: the client sees a reset too, as it would without the proxy.
      if (!client.destroyed) client.resetAndDestroy();
    });
    client.on('close', () => this.destroy());
    this.sync();
  }

  sync(): void {
    this.toServer.sync();
    this.toClient.sync();
  }

  reset(): void {
    this.stopTimers();
    if (!this.client.destroyed) this.client.resetAndDestroy();
    this.upstream.destroy();
  }

  destroy(): void {
    this.stopTimers();
    this.client.destroy();
    this.upstream.destroy();
  }

  private stopTimers(): void {
    this.toServer.stop();
    this.toClient.stop();
  }
}

/** One direction of a link: reads `src`, holds chunks for the latency, writes them to `dst` in order. */
class Direction {
  private readonly queue: Array<{ at: number; chunk: Buffer }> = [];
  private timer: NodeJS.Timeout | undefined;
  private blocked = false;
  private ended = false;

  constructor(
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly proxy: TcpFaultProxy,
  ) {
    src.on('data', (chunk: Buffer) => this.push(chunk));
    src.on('end', () => {
      this.ended = true;
      this.flush();
    });
  }

  /** Pauses or resumes reading for the current mode and backpressure, then releases what is due. */
  sync(): void {
    if (this.proxy.mode === 'blackhole' || this.blocked) this.src.pause();
    else this.src.resume();
    this.flush();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private push(chunk: Buffer): void {
    const delay = this.proxy.mode === 'latency' ? this.proxy.latency : 0;
    const last = this.queue.at(-1)?.at ?? 0;
    this.queue.push({ at: Math.max(performance.now() + delay, last), chunk });
    this.flush();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.proxy.mode === 'blackhole' || this.dst.destroyed) return;
    const now = performance.now();
    let next = this.queue[0];
    while (next !== undefined && next.at <= now) {
      this.queue.shift();
      this.write(next.chunk);
      next = this.queue[0];
    }
    if (next !== undefined) {
      this.timer = setTimeout(() => this.flush(), Math.max(1, Math.ceil(next.at - now)));
    } else if (this.ended && !this.dst.writableEnded) {
      this.dst.end();
    }
  }

  private write(chunk: Buffer): void {
    if (this.dst.write(chunk) || this.blocked) return;
    this.blocked = true;
    this.src.pause();
    this.dst.once('drain', () => {
      this.blocked = false;
      this.sync();
    });
  }
}
