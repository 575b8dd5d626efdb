/**
 * The app the observability tests run: `orders.place` calls `stock.level`, passing its call context on.
 * `stock` fails on purpose for sku `missing` (NOT_FOUND) and `broken` (an uncoded error with a cause).
 */
import {
  type BlueprintApp,
  type CallContext,
  type ClientOf,
  createApp,
  defineApp,
  defineService,
  type ImplementationOf,
  injectable,
  injectService,
  NotFoundError,
  service,
} from '@blueprint/core';
import { z } from 'zod';
import { getFreePort } from '../../../../../test/harness/index.js';

export const Stock = defineService('stock', {
  level: { input: z.object({ sku: z.string() }), output: z.object({ sku: z.string(), level: z.number() }) },
});

export const Orders = defineService('orders', {
  place: {
    input: z.object({ sku: z.string() }),
    output: z.object({ accepted: z.boolean(), level: z.number() }),
  },
});

@injectable()
export class StockService implements ImplementationOf<typeof Stock> {
  async level({ sku }: { sku: string }) {
    if (sku === 'missing') throw new NotFoundError(`sku ${sku} does not exist`);
    if (sku === 'broken') {
      throw new Error('stock table unreadable', { cause: new Error('disk full') });
    }
    return { sku, level: 7 };
  }
}

@injectable()
export class OrdersService implements ImplementationOf<typeof Orders> {
  constructor(@injectService(Stock) private readonly stock: ClientOf<typeof Stock>) {}

  async place({ sku }: { sku: string }, context?: CallContext) {
    const { level } = await this.stock.level({ sku }, { headers: context?.headers });
    return { accepted: level > 0, level };
  }
}

export const obsApp = defineApp({
  name: 'obs',
  services: [service(Stock, StockService), service(Orders, OrdersService)],
});

/** A topology that hosts both services in one process, `main`, with the other `sections`. */
export function monolithTopology(sections: Record<string, unknown> = {}) {
  return { app: './obs-app.js', ...sections, processes: { main: { services: ['stock', 'orders'] } } };
}

/** A parsed log line. */
export type LogLine = Record<string, unknown> & { msg?: string; level: number };

/** Two processes over http RPC: `front` hosts stock, `back` hosts orders; each with its log lines. */
export interface Pair {
  readonly front: BlueprintApp;
  readonly back: BlueprintApp;
  readonly logs: { readonly front: LogLine[]; readonly back: LogLine[] };
  stop(): Promise<void>;
}

/** Starts the pair. `observability` is the topology section; `env` is given to both (e.g. LOG_LEVEL). */
export async function startPair(
  options: {
    observability?: Record<string, unknown>;
    admin?: Record<string, unknown>;
    env?: Record<string, string>;
  } = {},
): Promise<Pair> {
  // Each process calls the other: fixed free ports, so both addresses are known before either starts.
  const [frontPort, backPort] = [await getFreePort(), await getFreePort()];
  const topology = {
    app: './obs-app.js',
    rpc: { type: 'http', timeout: '5s' },
    auth: 'none',
    ...(options.observability ? { observability: options.observability } : {}),
    ...(options.admin ? { admin: options.admin } : {}),
    processes: {
      front: { services: ['stock'], address: `http://127.0.0.1:${frontPort}` },
      back: { services: ['orders'], address: `http://127.0.0.1:${backPort}` },
    },
  };
  const logs = { front: [] as LogLine[], back: [] as LogLine[] };
  const destination = (lines: LogLine[]) => ({ write: (line: string) => lines.push(JSON.parse(line)) });
  const env = options.env ?? {};
  const front = await createApp(obsApp, {
    topology,
    process: 'front',
    env,
    logDestination: destination(logs.front),
  });
  const back = await createApp(obsApp, {
    topology,
    process: 'back',
    env,
    logDestination: destination(logs.back),
  });
  await Promise.all([front.start(), back.start()]);
  return {
    front,
    back,
    logs,
    async stop() {
      await front.stop();
      await back.stop();
    },
  };
}
