/**
 * The request context flows by itself: a chain edge → orders → products → payments in which no service
 * passes a context on. The last hop sees the caller's remaining deadline, its correlation id and trace
 * context, and its signal aborts when the caller gives up — in one process and across four.
 */
import {
  type BlueprintApp,
  type CallContext,
  type ClientOf,
  defineApp,
  defineService,
  inject,
  injectable,
  requestContext,
  service,
} from '@blueprint/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { getFreePort, waitFor } from '../../../../test/harness/index.js';
import { appStarter } from '../../../../test/harness/started-apps.js';

const Seen = z.object({
  remainingMs: z.number().nullable(),
  correlationId: z.string().nullable(),
  traceparent: z.string().nullable(),
});
const Payments = defineService('payments', {
  inspect: { input: z.object({ wait: z.boolean() }), output: Seen },
});
const Products = defineService('products', {
  inspect: { input: z.object({ wait: z.boolean() }), output: Seen },
});
const Orders = defineService('orders', { inspect: { input: z.object({ wait: z.boolean() }), output: Seen } });

/** What the last hop saw of its request, and whether its signal aborted. */
const lastHop = { aborted: false, waiting: false };

@injectable()
class PaymentsService {
  async inspect({ wait }: { wait: boolean }, context?: CallContext) {
    const current = requestContext();
    const seen = {
      remainingMs: current?.deadline === undefined ? null : current.deadline - Date.now(),
      correlationId: current?.headers?.['x-correlation-id'] ?? null,
      traceparent: current?.headers?.traceparent ?? null,
    };
    if (wait) {
      lastHop.waiting = true;
      const signal = context?.signal ?? current?.signal;
      await new Promise<void>((resolve) => {
        signal?.addEventListener('abort', () => {
          lastHop.aborted = true;
          resolve();
        });
      });
    }
    return seen;
  }
}

@injectable()
class ProductsService {
  constructor(@inject(Payments.token) private readonly payments: ClientOf<typeof Payments>) {}
  inspect(input: { wait: boolean }) {
    return this.payments.inspect(input);
  }
}

@injectable()
class OrdersService {
  constructor(@inject(Products.token) private readonly products: ClientOf<typeof Products>) {}
  inspect(input: { wait: boolean }) {
    return this.products.inspect(input);
  }
}

const app = defineApp({
  name: 'context',
  services: [
    service(Orders, OrdersService),
    service(Products, ProductsService),
    service(Payments, PaymentsService),
  ],
});
const started = appStarter();
beforeEach(() => {
  lastHop.aborted = false;
  lastHop.waiting = false;
});

async function start(mode: 'monolith' | 'split'): Promise<BlueprintApp> {
  if (mode === 'monolith') {
    return started(app, {
      topology: { app: './x', processes: { main: { services: ['orders', 'products', 'payments'] } } },
    });
  }
  const ports = [await getFreePort(), await getFreePort(), await getFreePort()];
  const topology = {
    app: './x',
    rpc: { type: 'http', timeout: '10s' },
    auth: 'none',
    processes: {
      orders: { services: ['orders'], address: `http://127.0.0.1:${ports[0]}` },
      products: { services: ['products'], address: `http://127.0.0.1:${ports[1]}` },
      payments: { services: ['payments'], address: `http://127.0.0.1:${ports[2]}` },
      edge: { services: [] },
    },
  };
  for (const name of ['payments', 'products', 'orders']) await started(app, { topology, process: name });
  return started(app, { topology, process: 'edge' });
}

const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe.each(['monolith', 'split'] as const)('the request context, %s', (mode) => {
  it('brings the caller’s remaining deadline, correlation id and trace context to the last hop', async () => {
    const edge = await start(mode);
    const seen = await edge
      .client(Orders)
      .inspect({ wait: false }, { timeout: 3_000, headers: { 'x-correlation-id': 'corr-42', traceparent } });
    expect(seen.correlationId).toBe('corr-42');
    expect(seen.traceparent).toBe(traceparent);
    expect(seen.remainingMs).not.toBeNull();
    expect(seen.remainingMs!).toBeLessThanOrEqual(3_000);
    expect(seen.remainingMs!).toBeGreaterThan(1_500);
  });

  it('aborts the work at the last hop when the caller gives up', async () => {
    const edge = await start(mode);
    const controller = new AbortController();
    const pending = edge
      .client(Orders)
      .inspect({ wait: true }, { signal: controller.signal })
      .catch((e: unknown) => e);
    await waitFor(() => lastHop.waiting, { message: 'the last hop to start waiting' });
    controller.abort();
    expect((await pending) as { code: string }).toMatchObject({ code: 'ABORTED' });
    await waitFor(() => lastHop.aborted, { timeout: 5_000, message: "the last hop's signal to abort" });
  });

  it('lets an explicit context override: a shorter timeout wins', async () => {
    const edge = await start(mode);
    const seen = await edge.client(Orders).inspect({ wait: false }, { timeout: 800 });
    expect(seen.remainingMs!).toBeLessThanOrEqual(800);
  });
});
