// biome-ignore-all lint/suspicious/noTemplateCurlyInString: topologies use ${VAR} syntax
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineApp } from '../app.js';
import { buildGraph } from '../cli/graph-model.js';
import { inject, injectable } from '../container.js';
import { defineService } from '../contract.js';
import { service } from '../service.js';
import { parseTopology } from '../topology.js';
import { backingServices } from './backing-services.js';
import { containerTopology } from './container-topology.js';
import { exportEnvironment, variablesWithoutDefault } from './export-environment.js';
import { planDeployment } from './plan.js';
import { topologyVariables } from './variables.js';

const Catalog = defineService('catalog', { get: { input: z.string(), output: z.string() } });
const Orders = defineService('orders', { place: { input: z.string(), output: z.string() } });
const Web = defineService('web', {});

@injectable()
class CatalogService {
  async get(id: string) {
    return id;
  }
}
@injectable()
class OrdersService {
  constructor(@inject(Catalog.token) readonly catalog: unknown) {}
  async place(id: string) {
    return id;
  }
}
@injectable()
class WebService {
  constructor(
    @inject(Orders.token) readonly orders: unknown,
    @inject(Catalog.token) readonly catalog: unknown,
  ) {}
}

const app = defineApp({
  name: 'tiny-shop',
  services: [service(Catalog, CatalogService), service(Orders, OrdersService), service(Web, WebService)],
});

const split = {
  app: '../src/app.ts',
  rpc: { type: 'http' },
  auth: { secret: '${SERVICE_SECRET}' },
  drainDelay: '2s',
  shutdownTimeout: '${SHUTDOWN:-8s}',
  settings: { port: '${PORT:-3000}', adminPort: 1, dataDir: '${DATA_DIR:-.data/tiny}', label: 'x' },
  admin: { port: { catalog: 9470 } },
  processes: {
    catalog: { services: ['catalog'], address: 'http://127.0.0.1:${CATALOG_PORT:-4001}', replicas: 3 },
    orders: {
      services: ['orders'],
      addresses: ['https://10.0.0.1:4002', 'https://10.0.0.2:4002'],
      callers: ['web'],
    },
    web: { services: ['web'] },
  },
  tls: { ca: 'certs/ca.pem', cert: 'certs/cert.pem', key: 'certs/key.pem' },
};

function plan(raw: Record<string, unknown> = split, topologyFile = 'topology/split.json') {
  const env = exportEnvironment(topologyVariables(raw), backingServices(raw));
  const topology = parseTopology(raw, { env, source: topologyFile });
  return planDeployment({ app, topology, raw, topologyFile });
}

describe('the deployment plan', () => {
  it('runs one unit per replica with the command blueprint start runs', () => {
    const processes = plan().processes;
    expect(processes.map((p) => [p.name, p.replicas])).toEqual([
      ['catalog', 3],
      ['orders', 2],
      ['web', 1],
    ]);
    const catalog = processes[0]!;
    expect(catalog.command).toEqual([
      'blueprint',
      'start',
      '--topology',
      'topology/split.json',
      '--process',
      'catalog',
    ]);
    expect(catalog.units.map((unit) => [unit.name, unit.command.slice(-2)])).toEqual([
      ['catalog.0', ['--replica', '0']],
      ['catalog.1', ['--replica', '1']],
      ['catalog.2', ['--replica', '2']],
    ]);
    expect(processes[2]!.units).toEqual([
      { name: 'web', replica: undefined, command: processes[2]!.command },
    ]);
  });

  it('takes ports, probes and callers from the topology and the contract graph', () => {
    const [catalog, orders, web] = plan().processes;
    expect(catalog!.ports).toEqual({
      rpc: { name: 'rpc', port: 4001 },
      admin: { name: 'admin', port: 9470 },
      public: [],
    });
    expect(catalog!.probes).toMatchObject({ listener: 'admin', port: 9470, scheme: 'HTTP' });
    expect(orders!.probes).toMatchObject({ listener: 'rpc', port: 4002, scheme: 'HTTPS' });
    expect(web!.probes).toBeUndefined();
    expect(catalog!.callers.toSorted()).toEqual(['orders', 'web']);
    // `callers` narrows the graph; web is allowed and calls orders.
    expect(orders!.callers).toEqual(['web']);
    expect(web!.calls.toSorted()).toEqual(['catalog', 'orders']);
  });

  it('takes the calls between processes from the graph blueprint graph draws', () => {
    const raw = {
      ...split,
      processes: { ...split.processes, orders: { ...split.processes.orders, callers: undefined } },
    };
    const result = plan(raw);
    const topology = parseTopology(raw, { env: exportEnvironment(topologyVariables(raw)) });
    const processOf = (service: string) => result.processes.find((p) => p.services.includes(service))!.name;
    const edges = buildGraph(app, topology)
      .calls.filter((call) => call.remote)
      .map((call) => `${processOf(call.from)} -> ${processOf(call.to)}`);
    const planned = result.processes.flatMap((p) => p.callers.map((caller) => `${caller} -> ${p.name}`));
    expect(planned.toSorted()).toEqual([...new Set(edges)].toSorted());
    expect(planned.toSorted()).toEqual(['orders -> catalog', 'web -> catalog', 'web -> orders']);
  });

  it('gives the public ports of settings to the processes hosting a service without methods', () => {
    const [catalog, , web] = plan().processes;
    expect(web!.ports.public).toEqual([
      { name: 'http', port: 3000, setting: 'port', variable: 'PORT' },
      { name: 'admin', port: 1, setting: 'adminPort', variable: undefined },
    ]);
    expect(catalog!.ports.public).toEqual([]);
    expect(plan().dataDirs).toEqual([{ setting: 'dataDir', path: '.data/tiny' }]);
  });

  it('lists the variables the topology reads, secrets marked, values never read', () => {
    const variables = plan().environment;
    expect(variables.map((v) => [v.name, v.default, v.secret])).toEqual([
      ['SERVICE_SECRET', undefined, true],
      ['SHUTDOWN', '8s', false],
      ['PORT', '3000', false],
      ['DATA_DIR', '.data/tiny', false],
      ['CATALOG_PORT', '4001', false],
    ]);
    expect(variables[0]!.paths).toEqual(['topology.auth.secret']);
    expect(topologyVariables({ a: '${API_KEY:-x}', b: '${API_KEY}' })).toEqual([
      { name: 'API_KEY', default: undefined, paths: ['topology.a', 'topology.b'], secret: true },
    ]);
  });

  it('has the drain timing of blueprint start', () => {
    expect(plan().drain).toEqual({
      drainDelay: 2000,
      shutdownTimeout: 8000,
      stopMargin: 3000,
      stopLimit: 13_000,
    });
  });

  it('names the app module relative to the topology, and a DNS-safe name', () => {
    const result = plan();
    expect(result.files).toEqual({ topology: 'topology/split.json', app: 'src/app.ts' });
    expect(result.name).toBe('tiny-shop');
    expect(result.issues).toEqual([]);
  });

  it('reports what containers cannot run, and dev ignores it', () => {
    const result = plan({
      ...split,
      auth: 'none',
      admin: { port: 0 },
      processes: { ...split.processes, catalog: { services: ['catalog'], address: 'http://127.0.0.1:0' } },
    });
    expect(result.issues.map((issue) => issue.path)).toEqual([
      'topology.processes.catalog.address',
      'topology.admin.port',
      'topology.admin.port',
      'topology.admin.port',
      'topology.auth',
    ]);
    expect(result.processes[0]!.units).toHaveLength(1);
  });
});

describe('secrets in a deployment', () => {
  it('are refused when written in the file or given a default, which every export would copy', () => {
    const written = 'w'.repeat(40);
    const result = plan({
      ...split,
      auth: { secret: written, previousSecret: '${OLD_SECRET}' },
      admin: { port: { catalog: 9470 }, token: '${ADMIN_TOKEN:-dev-token-dev-token-dev-token-dev-token}' },
      settings: { ...split.settings, apiKey: '${PAYMENT_API_KEY:-sk-test}' },
    });
    expect(result.issues).toEqual([
      {
        path: 'topology.auth.secret',
        message:
          'a secret written in the file would be copied into every exported file; read it from a variable: "${SERVICE_SECRET}"',
      },
      {
        path: 'topology.settings.apiKey',
        message:
          'secret PAYMENT_API_KEY has a default, which would be copied into the exported files and used wherever PAYMENT_API_KEY is unset; drop it: "${PAYMENT_API_KEY}"',
      },
      {
        path: 'topology.admin.token',
        message:
          'secret ADMIN_TOKEN has a default, which would be copied into the exported files and used wherever ADMIN_TOKEN is unset; drop it: "${ADMIN_TOKEN}"',
      },
    ]);
    expect(JSON.stringify(result.issues)).not.toContain(written);
  });
});

describe('backing services', () => {
  it('shares one persistent Redis between events and a cache that read the same URL', () => {
    const url = '${REDIS_URL:-redis://127.0.0.1:6379}';
    expect(
      backingServices({ events: { type: 'redis-streams', url }, cache: { type: 'tiered', url } }),
    ).toEqual([
      {
        name: 'redis',
        kind: 'redis',
        sections: ['events', 'cache'],
        persistent: true,
        variable: 'REDIS_URL',
        port: 6379,
        composeUrl: 'redis://redis:6379',
        loopbackUrl: 'redis://127.0.0.1:6379',
      },
    ]);
  });

  it('runs two Redis servers for two URLs, only the one holding events persistent', () => {
    const services = backingServices({
      events: { type: 'redis-streams', url: '${EVENTS_URL}' },
      cache: { type: 'redis', url: '${CACHE_URL:-redis://127.0.0.1:6380}' },
    });
    expect(services.map((s) => [s.name, s.persistent, s.composeUrl])).toEqual([
      ['redis-events', true, 'redis://redis-events:6379'],
      ['redis-cache', false, 'redis://redis-cache:6379'],
    ]);
  });

  it('knows NATS, Kafka and Memcached, and needs nothing for memory', () => {
    expect(
      backingServices({
        events: { type: 'nats', url: '${NATS_URL:-nats://127.0.0.1:4222}' },
        cache: { type: 'memory' },
      }).map((s) => [s.kind, s.persistent]),
    ).toEqual([['nats', true]]);
    expect(backingServices({ events: { type: 'kafka', brokers: '${KAFKA_BROKERS}' } })[0]).toMatchObject({
      kind: 'kafka',
      composeUrl: 'kafka:9092',
    });
    expect(backingServices({ cache: { type: 'memcached', servers: '${MEMCACHED}' } })[0]).toMatchObject({
      kind: 'memcached',
      persistent: false,
    });
  });

  it('asks for a variable when a server address is written literally', () => {
    const issues: { path: string; message: string }[] = [];
    expect(
      backingServices({ events: { type: 'redis-streams', url: 'redis://127.0.0.1:6379' } }, issues),
    ).toEqual([]);
    expect(issues).toEqual([
      {
        path: 'topology.events.url',
        message:
          '"redis://127.0.0.1:6379"; a deployment points it at its own redis server, so read it from one variable: "url": "${REDIS_URL:-redis://127.0.0.1:6379}"',
      },
    ]);
  });
});

describe('the environment export reads a topology with', () => {
  const raw = {
    auth: { secret: '${SERVICE_SECRET}' },
    events: { type: 'redis-streams', url: '${REDIS_URL}' },
    processes: { web: { services: ['web'], address: 'http://127.0.0.1:${WEB_PORT}' } },
    settings: { port: '${PORT:-3000}' },
  };

  it('fills what the files only name: secrets, and server URLs with their laptop URL', () => {
    const env = exportEnvironment(topologyVariables(raw), backingServices(raw));
    expect(env).toEqual({ SERVICE_SECRET: 'x'.repeat(48), REDIS_URL: 'redis://127.0.0.1:6379' });
  });

  it('asks for a default where the value would shape the files', () => {
    expect(variablesWithoutDefault(topologyVariables(raw), backingServices(raw))).toEqual([
      {
        path: 'topology.processes.web.address',
        message:
          'reads ${WEB_PORT} without a default; export reads the topology with its defaults, never the shell\'s variables, so give it one: "${WEB_PORT:-value}" (a deployment may still set WEB_PORT)',
      },
    ]);
  });
});

describe('the container topology', () => {
  it('calls processes at their service names, binds every interface, keeps variables', () => {
    const result = plan();
    const topology = containerTopology(result, (name) => `tiny-${name}`) as any;
    expect(topology.app).toBe('/app/src/app.ts');
    expect(topology.tls).toEqual({
      ca: '/app/topology/certs/ca.pem',
      cert: '/app/topology/certs/cert.pem',
      key: '/app/topology/certs/key.pem',
    });
    expect(topology.processes.catalog).toEqual({
      services: ['catalog'],
      address: 'http://tiny-catalog:${CATALOG_PORT:-4001}',
      listen: { host: '0.0.0.0' },
    });
    expect(topology.processes.orders).toEqual({
      services: ['orders'],
      address: 'https://tiny-orders:4002',
      callers: ['web'],
      listen: { host: '0.0.0.0' },
    });
    expect(topology.processes.web).toEqual({ services: ['web'] });
    expect(topology.admin).toEqual({ port: { catalog: 9470 }, host: '0.0.0.0' });
    expect(topology.auth).toEqual({ secret: '${SERVICE_SECRET}' });
    // The plan's own raw topology is untouched.
    expect((result.raw as any).processes.catalog.replicas).toBe(3);
    // And it is a valid topology.
    const parsed = parseTopology(topology, { env: { SERVICE_SECRET: 'x'.repeat(40) } });
    expect(parsed.processes.catalog!.address).toBe('http://tiny-catalog:4001');
  });
});
