/**
 * The connection lifecycle of a broker transport: opened once on first use (concurrent callers share the
 * attempt, a failed attempt is forgotten), bounded by the connect timeout, closed for good once.
 */
import type { EventsError } from '../../errors.js';
import type { BrokerErrors } from './broker-errors.js';

/** How a transport opens and closes its client. */
export interface BrokerConnector<C> {
  /**
   * Opens the client and resolves once it can be used. When `signal` aborts (the connect timeout passed)
   * stop trying and release what was opened; a client that opens anyway is closed.
   */
  open(signal: AbortSignal): Promise<C>;
  /** Closes the client for good (politely when it can, within a bounded time). */
  close(client: C): Promise<void>;
}

/** Options of a {@link BrokerConnection}. */
export interface BrokerConnectionOptions {
  /** Most time opening may take, in ms. */
  readonly connectTimeout: number;
  /** The broker and where, for messages: `Redis at redis://127.0.0.1:6379`. */
  readonly describe: string;
  /** The transport's errors. */
  readonly errors: BrokerErrors;
}

/** One client of a broker transport, from first use to close. */
export class BrokerConnection<C> {
  private client: C | undefined;
  private opening: Promise<C> | undefined;
  private isClosed = false;

  constructor(
    private readonly connector: BrokerConnector<C>,
    private readonly options: BrokerConnectionOptions,
  ) {}

  /** The open client, or undefined before it opened and once close disposed of it. */
  get current(): C | undefined {
    return this.client;
  }

  /** True once `close()` was called: nothing new may start (the client stays up while close drains). */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The open client while the connection is neither closed nor closing, else undefined: what a publish may use. */
  get usable(): C | undefined {
    return this.isClosed ? undefined : this.client;
  }

  /** The open client; throws `EVENTS_BROKER_UNAVAILABLE` (`EVENTS_BUS_CLOSED` after close) when there is none. */
  get(): C {
    const client = this.current;
    if (client === undefined) throw this.notOpen();
    return client;
  }

  /** The error for a use before the client opened, or after close. */
  notOpen(): EventsError {
    return this.options.errors.notOpen(this.isClosed);
  }

  /**
   * Opens the client, or returns the one open or opening. Rejects with `EVENTS_BROKER_UNAVAILABLE` when
   * the broker cannot be reached within the connect timeout (the next call tries again).
   */
  open(): Promise<C> {
    if (this.isClosed) return Promise.reject(this.notOpen());
    this.opening ??= this.connect().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  /** Closes for good: `drain` runs first, while the client is still up; then the client closes. Safe to call twice. */
  async close(drain: () => Promise<unknown> = async () => undefined): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await drain();
    const client = this.client ?? (await this.opening?.catch(() => undefined));
    this.client = undefined;
    if (client !== undefined) await this.connector.close(client);
  }

  private async connect(): Promise<C> {
    const { connectTimeout, describe, errors } = this.options;
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const opened = this.connector.open(abort.signal);
    let client: C;
    try {
      client = await Promise.race([
        opened,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            abort.abort();
            reject(new Error(`no answer within ${connectTimeout} ms`));
          }, connectTimeout);
        }),
      ]);
    } catch (error) {
      if (abort.signal.aborted) {
        opened.then((late) => this.connector.close(late)).catch(() => undefined);
      }
      throw errors.setup(`cannot reach ${describe}`, error);
    } finally {
      clearTimeout(timer);
    }
    if (this.isClosed) {
      await this.connector.close(client);
      throw this.notOpen();
    }
    this.client = client;
    return client;
  }
}
