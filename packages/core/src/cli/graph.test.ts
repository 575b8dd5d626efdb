import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { httpSplit } from '../../../../test/harness/topologies.js';
import { app } from '../../test/integration/cli/fixtures/graph-app.js';
import { topologyOptionsOf } from '../app/topology-source.js';
import { defineApp } from '../app.js';
import { defineService } from '../contract.js';
import { definePlugin } from '../plugin/define-plugin.js';
import { service } from '../service.js';
import { loadTopologyFile, parseTopology } from '../topology.js';
import { annotateGraph, type Scrape } from './graph-metrics.js';
import { buildGraph } from './graph-model.js';
import { renderMermaid, renderText } from './graph-render.js';
import { parsePrometheusText } from './prometheus-text.js';

const topologyFile = fileURLToPath(
  new URL('../../test/integration/cli/fixtures/graph-topology.json', import.meta.url),
);
const graph = () => buildGraph(app, loadTopologyFile(topologyFile, { ...topologyOptionsOf(app), env: {} }));

function scrapeOf(process: string, lines: string[], startedSecondsAgo = 100, at = 1_000_000): Scrape {
  const text = [
    `process_start_time_seconds ${at / 1000 - startedSecondsAgo}`,
    ...lines.map((l) => l.replace('}', `,app="graph-shop",process="${process}"}`)),
  ].join('\n');
  return { url: `http://${process}/metrics`, at, samples: parsePrometheusText(text) };
}

describe('blueprint graph: the model', () => {
  it('draws an event from the services whose contract declares they publish it', () => {
    const StockLow = { name: 'stock.low' };
    const Stock = defineService(
      'stock',
      { level: { input: z.void(), output: z.number() } },
      { publishes: [StockLow] },
    );
    const Buyer = defineService('buyer', { noop: { input: z.void(), output: z.void() } });
    class Impl {
      async level() {
        return 1;
      }
      async noop() {}
    }
    const subscribers = definePlugin({
      name: 'subscribers',
      setup() {},
      describe: () => ({ events: [{ event: 'stock.low', subscribers: ['buyer'] }] }),
    });
    const small = defineApp({
      name: 'small',
      services: [service(Stock, Impl), service(Buyer, Impl)],
      plugins: [subscribers],
    });
    const topology = parseTopology({
      app: './app.js',
      rpc: { type: 'http' },
      processes: { a: { services: ['stock'] }, b: { services: ['buyer'] } },
    });
    expect(buildGraph(small, topology).events).toEqual([
      { event: 'stock.low', from: 'stock', to: 'buyer', remote: true },
    ]);
  });

  it('finds calls from injected contract tokens, through providers, and events from plugins', () => {
    const g = graph();
    expect(g.processes.map((p) => [p.name, p.services])).toEqual([
      ['edge', ['gateway']],
      ['catalog', ['products']],
      ['checkout', ['orders', 'payments']],
    ]);
    expect(g.calls).toEqual([
      { from: 'orders', to: 'products', remote: true, via: ['Pricing'] },
      { from: 'orders', to: 'payments', remote: false, via: [] },
      { from: 'gateway', to: 'orders', remote: true, via: [] },
      { from: 'gateway', to: 'products', remote: true, via: [] },
    ]);
    expect(g.events).toEqual([
      { event: 'order.placed', from: 'orders', to: 'payments', remote: false },
      { event: 'order.placed', from: 'orders', to: 'products', remote: true },
      { event: 'stock.low', from: undefined, to: 'orders', remote: false },
    ]);
  });

  it('prints text: processes, calls local or remote, events', () => {
    expect(renderText(graph())).toBe(
      [
        `graph-shop: 4 services in 3 processes (${topologyFile})`,
        '',
        'processes',
        '  edge      gateway',
        '  catalog   products          http://127.0.0.1:4101',
        '  checkout  orders, payments  http://127.0.0.1:4102',
        '',
        'calls',
        '  orders → products   remote checkout → catalog via Pricing',
        '  orders → payments   local in checkout',
        '  gateway → orders    remote edge → checkout',
        '  gateway → products  remote edge → catalog',
        '',
        'events',
        '  order.placed  orders → payments  local',
        '  order.placed  orders → products  remote',
        '  stock.low     ? → orders',
        '',
      ].join('\n'),
    );
  });

  it('prints every replica of a process', () => {
    const topology = parseTopology(
      httpSplit({
        edge: { services: ['gateway'] },
        catalog: { services: ['products'], address: 'http://127.0.0.1:4101', replicas: 3 },
        checkout: {
          services: ['orders', 'payments'],
          addresses: ['http://10.0.0.1:4102', 'http://10.0.0.2:4102'],
        },
      }),
      topologyOptionsOf(app),
    );
    const processes = renderText(buildGraph(app, topology)).split('\n').slice(3, 6);
    expect(processes).toEqual([
      '  edge      gateway',
      '  catalog   products          http://127.0.0.1:4101, :4102, :4103 (3 replicas)',
      '  checkout  orders, payments  http://10.0.0.1:4102, http://10.0.0.2:4102 (2 replicas)',
    ]);
  });

  it('prints Mermaid: one subgraph per process, calls and dotted event arrows', () => {
    expect(renderMermaid(graph())).toBe(
      [
        'flowchart LR',
        '  subgraph process_edge["process edge"]',
        '    svc_gateway["gateway"]',
        '  end',
        '  subgraph process_catalog["process catalog"]',
        '    svc_products["products"]',
        '  end',
        '  subgraph process_checkout["process checkout"]',
        '    svc_orders["orders"]',
        '    svc_payments["payments"]',
        '  end',
        '  svc_orders --> svc_products',
        '  svc_orders --> svc_payments',
        '  svc_gateway --> svc_orders',
        '  svc_gateway --> svc_products',
        '  svc_orders -.->|"order.placed"| svc_payments',
        '  svc_orders -.->|"order.placed"| svc_products',
        '  event_stock_low{{"stock.low"}}',
        '  event_stock_low -.-> svc_orders',
        '',
      ].join('\n'),
    );
  });
});

describe('blueprint graph: measured calls', () => {
  const counter = 'blueprint_rpc_client_requests_total';
  const scrapes = [
    scrapeOf('edge', [
      `${counter}{service="orders",method="place",code="OK"} 150`,
      `${counter}{service="orders",method="place",code="NOT_FOUND"} 50`,
      `${counter}{service="products",method="get",code="OK"} 20`,
    ]),
    scrapeOf('checkout', [`${counter}{service="products",method="get",code="OK"} 400`]),
  ];

  it('puts totals and the average rate since start on remote edges, and ranks the busiest pairs', () => {
    const g = annotateGraph(graph(), scrapes);
    const byEdge = Object.fromEntries(g.calls.map((c) => [`${c.from}>${c.to}`, c.measured]));
    expect(byEdge['gateway>orders']).toEqual({
      calls: 200,
      errors: 50,
      perSecond: 2,
      rateKind: 'since-start',
    });
    expect(byEdge['orders>products']).toEqual({
      calls: 400,
      errors: 0,
      perSecond: 4,
      rateKind: 'since-start',
    });
    expect(byEdge['orders>payments']).toBeUndefined();
    expect(g.traffic.map((t) => [t.process, t.to, t.measured.calls, t.callers])).toEqual([
      ['checkout', 'products', 400, ['orders']],
      ['edge', 'orders', 200, ['gateway']],
      ['edge', 'products', 20, ['gateway']],
    ]);
    const text = renderText(g);
    expect(text).toContain(
      [
        'calls',
        '  orders → products   remote checkout → catalog via Pricing  400 calls, 4.00/s avg',
        '  orders → payments   local in checkout',
        '  gateway → orders    remote edge → checkout                 200 calls, 2.00/s avg, 50 errors',
        '  gateway → products  remote edge → catalog                  20 calls, 0.20/s avg',
      ].join('\n'),
    );
    expect(text).toContain(
      [
        'most calls across processes (keep the busiest pairs together)',
        '  1.  checkout → products (in catalog)  400 calls, 4.00/s avg             callers: orders',
        '  2.  edge → orders (in checkout)       200 calls, 2.00/s avg, 50 errors  callers: gateway',
        '  3.  edge → products (in catalog)      20 calls, 0.20/s avg              callers: gateway',
      ].join('\n'),
    );
    expect(renderMermaid(g)).toContain('  svc_gateway -->|"200 calls, 2.00/s avg, 50 errors"| svc_orders');
  });

  it('computes rates over the window between two scrapes, summing replicas of a process', () => {
    const later = [
      scrapeOf('edge', [`${counter}{service="orders",method="place",code="OK"} 250`], 110, 1_010_000),
      scrapeOf('checkout', [`${counter}{service="products",method="get",code="OK"} 400`], 110, 1_010_000),
      scrapeOf('checkout', [`${counter}{service="products",method="get",code="OK"} 30`], 10, 1_010_000),
    ];
    const g = annotateGraph(graph(), scrapes, later, 10);
    const edge = g.traffic.find((t) => t.process === 'edge' && t.to === 'orders')!;
    expect(edge.measured).toEqual({ calls: 250, errors: 0, perSecond: 5, rateKind: 'sampled' });
    const checkout = g.traffic.find((t) => t.process === 'checkout')!;
    expect(checkout.measured).toMatchObject({ calls: 430, perSecond: 3 });
    expect(renderText(g)).toContain('250 calls, 5.00/s');
  });

  it('lists measured calls that no service declares, drawn from the calling process', () => {
    const g = annotateGraph(graph(), [
      scrapeOf('catalog', [`${counter}{service="payments",method="charge",code="OK"} 3`]),
    ]);
    expect(g.traffic).toEqual([
      expect.objectContaining({ process: 'catalog', to: 'payments', toProcess: 'checkout', callers: [] }),
    ]);
    expect(renderText(g)).toContain('callers: not declared');
    expect(renderMermaid(g)).toContain('  process_catalog -->|"3 calls, 0.03/s avg"| svc_payments');
  });
});

describe('Prometheus text', () => {
  it('reads samples with labels, escapes, special values and timestamps; skips comments', () => {
    const samples = parsePrometheusText(
      [
        '# HELP x_total Things.',
        '# TYPE x_total counter',
        'x_total{a="1",b="quote \\" and \\\\ and \\n"} 3 1700000000000',
        'up 1',
        'lag Nan',
        'le_bucket{le="+Inf"} +Inf',
        '',
      ].join('\n'),
    );
    expect(samples.slice(0, 2)).toEqual([
      { name: 'x_total', labels: { a: '1', b: 'quote " and \\ and \n' }, value: 3 },
      { name: 'up', labels: {}, value: 1 },
    ]);
    expect(samples[2]!.value).toBeNaN();
    expect(samples[3]).toEqual({
      name: 'le_bucket',
      labels: { le: '+Inf' },
      value: Number.POSITIVE_INFINITY,
    });
  });

  it('names a malformed line', () => {
    expect(() => parsePrometheusText('x{a="1" 3')).toThrow('malformed labels in metrics line: x{a="1" 3');
    expect(() => parsePrometheusText('x abc')).toThrow('malformed value in metrics line: x abc');
  });
});
