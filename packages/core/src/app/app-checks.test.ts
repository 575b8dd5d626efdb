import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { rejectionOf } from '../../../../test/harness/failures.js';
import { httpSplit } from '../../../../test/harness/topologies.js';
import { defineApp } from '../app.js';
import { inject, injectable } from '../container.js';
import { type ClientOf, defineService } from '../contract.js';
import { hasErrorCode } from '../errors.js';
import { definePlugin } from '../plugin/define-plugin.js';
import { service } from '../service.js';
import { createApp } from './create-app.js';

const Stock = defineService('stock', { level: { input: z.object({ sku: z.string() }), output: z.number() } });
const Orders = defineService('orders', {
  place: { input: z.object({ sku: z.string() }), output: z.boolean() },
});

let constructed = 0;

@injectable()
class StockService {
  constructor() {
    constructed++;
  }
  async level() {
    return 1;
  }
}

@injectable()
class OrdersService {
  constructor(@inject(Stock.token) private readonly stock: ClientOf<typeof Stock>) {
    constructed++;
  }
  async place({ sku }: { sku: string }) {
    return (await this.stock.level({ sku })) > 0;
  }
}

/** Both services of the shop: every check below builds this app against a different topology. */
const shopApp = defineApp({
  name: 'shop',
  services: [service(Stock, StockService), service(Orders, OrdersService)],
});

const failure = (promise: Promise<unknown>) => rejectionOf(promise, 'expected createApp to refuse');

describe('errors at the earliest point', () => {
  it('names a contract that is injected but that no service of the app implements, before building anything', async () => {
    constructed = 0;
    const app = defineApp({ name: 'shop', services: [service(Orders, OrdersService)] });
    const error = await failure(
      createApp(app, { topology: { app: './app.js', processes: { main: { services: ['orders'] } } } }),
    );
    expect(hasErrorCode(error, 'APP_INVALID')).toBe(true);
    expect(error.message).toContain(
      'OrdersService injects the contract "stock", but no service of app "shop" implements it',
    );
    expect(error.message).toContain(
      'add service(<the contract>, <its implementation>) to the services of defineApp',
    );
    expect(error.message).not.toContain('@injectable');
    expect(constructed).toBe(0);
  });

  it('names a called process that has no address, instead of starting it unreachable', async () => {
    const error = await failure(
      createApp(shopApp, {
        topology: httpSplit({
          front: { services: ['orders'], address: 'http://127.0.0.1:4102' },
          back: { services: ['stock'] },
        }),
        process: 'front',
      }),
    );
    expect(error.code).toBe('TOPOLOGY_INVALID');
    expect(error.message).toContain(
      'topology.processes.back.address: missing: process "back" hosts "stock", which "orders" in process "front" calls',
    );
  });

  it('accepts the missing address when createApp is given one for that process', async () => {
    const built = await createApp(shopApp, {
      topology: httpSplit({ front: { services: ['orders'] }, back: { services: ['stock'] } }),
      process: 'front',
      addresses: { back: 'http://127.0.0.1:4103' },
    });
    await built.stop();
  });

  it('suggests the service or process a misspelt name was meant to be', async () => {
    const misspelt = await failure(
      createApp(shopApp, {
        topology: { app: './app.js', processes: { main: { services: ['stock', 'ordres'] } } },
      }),
    );
    expect(misspelt.message).toContain('unknown service "ordres"; did you mean "orders"?');
    const process = await failure(
      createApp(shopApp, {
        topology: { app: './app.js', processes: { main: { services: ['stock', 'orders'] } } },
        process: 'mian',
      }),
    );
    expect(process.message).toContain('unknown process "mian"; did you mean "main"?');
  });

  it("reports a plugin section's own checks in the same report as the topology's, with one prefix", async () => {
    const audit = definePlugin<{ service: string }>({
      name: 'audit',
      section: {
        key: 'audit',
        schema: z.strictObject({ service: z.string() }),
        check: (config, app) =>
          app.services.some((s) => s.contract.name === config.service)
            ? []
            : [{ path: 'topology.audit.service', message: `unknown service "${config.service}"` }],
      },
      setup() {},
    });
    const app = defineApp({
      name: 'shop',
      services: [service(Stock, StockService), service(Orders, OrdersService)],
      plugins: [audit],
    });
    const error = await failure(
      createApp(app, {
        topology: {
          app: './app.js',
          audit: { service: 'billing' },
          processes: { main: { services: ['stock'] } },
        },
      }),
    );
    expect(error.message).toBe(
      'invalid topology (inline):\n  - topology.processes: service "orders" is placed nowhere; add it to the "services" of one process\n  - topology.audit.service: unknown service "billing"',
    );
  });

  it('refuses a split topology without an auth section, naming the key and the opt-out', async () => {
    const error = await failure(
      createApp(shopApp, {
        topology: {
          app: './app.js',
          rpc: { type: 'http' },
          processes: {
            front: { services: ['orders'], address: 'http://127.0.0.1:4104' },
            back: { services: ['stock'], address: 'http://127.0.0.1:4105' },
          },
        },
        process: 'front',
      }),
    );
    expect(error.message).toContain('topology.auth: missing:');
    expect(error.message).toContain('"auth": "none" to opt out');
  });

  it('refuses to serve calls on a public interface with "auth": "none"', async () => {
    const back = await createApp(shopApp, {
      topology: httpSplit({
        front: { services: ['orders'], address: 'http://127.0.0.1:4106' },
        back: { services: ['stock'], address: 'http://127.0.0.1:0', listen: { host: '0.0.0.0' } },
      }),
      process: 'back',
    });
    const error = await failure(back.start());
    expect(error.code).toBe('TOPOLOGY_INVALID');
    expect(error.message).toContain('would serve calls on 0.0.0.0 without authentication');
    expect(back.state).toBe('failed');
  });
});
