// biome-ignore-all lint/suspicious/noTemplateCurlyInString: topology files spell environment references as ${VAR}
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { httpSplit } from '../../../test/harness/topologies.js';
import { createApp } from './app/create-app.js';
import { checkTopologyAgainstApp } from './app/placement.js';
import { defineApp } from './app.js';
import { defineService } from './contract.js';
import { type BlueprintError, TopologyError } from './errors.js';
import { definePlugin } from './plugin/define-plugin.js';
import { service } from './service.js';
import { interpolateEnv, loadTopologyFile, parseTopology, type TopologyIssue } from './topology.js';

const Alpha = defineService('alpha', { ping: { input: z.void(), output: z.string() } });
const Beta = defineService('beta', { ping: { input: z.void(), output: z.string() } });
class AlphaService {
  async ping() {
    return 'alpha';
  }
}
class BetaService {
  async ping() {
    return 'beta';
  }
}
const app = defineApp({ name: 'shop', services: [service(Alpha, AlphaService), service(Beta, BetaService)] });

const dir = mkdtempSync(path.join(tmpdir(), 'bp-topology-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeTopology(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Runs `fn`, expects a TopologyError, and returns it with its issues. */
function topologyError(fn: () => unknown): BlueprintError & { issues: TopologyIssue[] } {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(TopologyError);
  const error = caught as BlueprintError;
  expect(error.code).toBe('TOPOLOGY_INVALID');
  const issues = (error.details as { issues?: TopologyIssue[] }).issues;
  expect(Array.isArray(issues) && issues.length > 0).toBe(true);
  for (const issue of issues!) {
    expect(issue.path).toMatch(/^topology/);
    expect(error.message).toContain(issue.message);
  }
  return Object.assign(error, { issues: issues! });
}

async function createAppError(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return topologyError(() => {
    throw error;
  });
}

const minimal = { app: './app.js', processes: { main: { services: ['alpha', 'beta'] } } };

describe('parseTopology', () => {
  it('fills the defaults of every core key', () => {
    const topology = parseTopology(minimal);
    expect(topology.rpc).toEqual({
      type: 'local',
      serialize: false,
      validate: { input: true, output: true },
    });
    expect(topology.shutdownTimeout).toBe(10_000);
    expect(topology.sections).toEqual({});
    expect(topology.source).toBe('(inline)');
    const http = parseTopology({ ...minimal, rpc: { type: 'http' } });
    expect(http.rpc).toEqual({
      type: 'http',
      serialize: false,
      validate: { input: true, output: true },
      timeout: 10_000,
      bodyLimit: 1024 * 1024,
      connections: 64,
      keepAliveTimeout: 4_000,
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      maxConnections: 1024,
      maxHeaderSize: 16 * 1024,
    });
  });

  it('reads durations, sizes, counts, ports and flags from numbers or strings', () => {
    const topology = parseTopology({
      ...minimal,
      shutdownTimeout: '2s',
      rpc: { type: 'http', timeout: '250ms', bodyLimit: '64kb', connections: '8', serialize: 'true' },
      auth: 'none',
      processes: { main: { services: ['alpha', 'beta'], listen: { host: '0.0.0.0', port: '4001' } } },
    });
    expect(topology.shutdownTimeout).toBe(2_000);
    expect(topology.rpc).toMatchObject({ timeout: 250, bodyLimit: 65_536, connections: 8, serialize: true });
    expect(topology.processes.main!.listen).toEqual({ host: '0.0.0.0', port: 4001 });
  });

  it('refuses an unknown key at the root, naming the path and the fix', () => {
    const error = topologyError(() => parseTopology({ ...minimal, procesess: {} }));
    expect(error.issues).toEqual([
      { path: 'topology.procesess', message: 'unknown key "procesess"; did you mean "processes"?' },
    ]);
  });

  it('refuses unknown nested keys in a process and in the rpc section', () => {
    const error = topologyError(() =>
      parseTopology({
        app: './app.js',
        rpc: { type: 'http', timeOut: '1s' },
        auth: 'none',
        processes: { main: { services: ['alpha'], servics: ['beta'] } },
      }),
    );
    expect(error.issues).toEqual(
      expect.arrayContaining([
        { path: 'topology.rpc.timeOut', message: 'unknown key "timeOut"; did you mean "timeout"?' },
        {
          path: 'topology.processes.main.servics',
          message: 'unknown key "servics"; did you mean "services"?',
        },
      ]),
    );
  });

  it('names the plugin a section needs when the app lacks it', () => {
    const error = topologyError(() =>
      parseTopology({ ...minimal, cache: { store: { type: 'memory' } }, events: {} }),
    );
    expect(error.issues).toEqual(
      expect.arrayContaining([
        {
          path: 'topology.cache',
          message:
            'section "cache" needs a plugin: add cachePlugin() from @blueprint/cache to the app\'s plugins',
        },
        {
          path: 'topology.events',
          message: expect.stringContaining('eventsPlugin() from @blueprint/events'),
        },
      ]),
    );
  });

  it("accepts a plugin's section, parsed by its schema, and reports its errors by path", () => {
    const plugin = definePlugin({
      name: 'audit',
      section: { key: 'audit', schema: z.strictObject({ level: z.enum(['info', 'debug']) }) },
      setup() {},
    });
    expect(
      parseTopology({ ...minimal, audit: { level: 'info' } }, { sections: [plugin.section!] }).sections,
    ).toEqual({
      audit: { level: 'info' },
    });
    const error = topologyError(() =>
      parseTopology({ ...minimal, audit: { level: 'loud', extra: 1 } }, { sections: [plugin.section!] }),
    );
    expect(error.issues.map((issue) => issue.path).sort()).toEqual([
      'topology.audit.extra',
      'topology.audit.level',
    ]);
  });

  it('refuses a service placed in two processes', () => {
    const error = topologyError(() =>
      parseTopology(httpSplit({ one: { services: ['alpha', 'beta'] }, two: { services: ['beta'] } })),
    );
    expect(error.issues).toEqual([
      {
        path: 'topology.processes.two.services[0]',
        message:
          'service "beta" is already placed in process "one"; a service runs in exactly one process, remove one of them',
      },
    ]);
  });

  it('refuses an unknown rpc transport, listing the allowed values', () => {
    const error = topologyError(() => parseTopology({ ...minimal, rpc: { type: 'grpc' } }));
    expect(error.issues).toEqual([
      { path: 'topology.rpc.type', message: 'unknown rpc transport "grpc"; allowed: local, http, tcp' },
    ]);
  });

  it('refuses an rpc section without "type", listing the allowed values', () => {
    const error = topologyError(() => parseTopology({ ...minimal, rpc: { timeout: '1s' } }));
    expect(error.issues).toEqual([
      { path: 'topology.rpc.type', message: 'missing "type" for rpc transport; allowed: local, http, tcp' },
    ]);
  });

  it('refuses bad durations, sizes and ports with the accepted forms', () => {
    const error = topologyError(() =>
      parseTopology({
        ...minimal,
        shutdownTimeout: '10 secs',
        rpc: { type: 'http', bodyLimit: 'huge' },
        auth: 'none',
        processes: {
          main: { services: ['alpha'], listen: { port: 70_000 } },
          side: { services: ['beta'], listen: { port: 'eighty' } },
        },
      }),
    );
    expect(error.issues).toEqual(
      expect.arrayContaining([
        {
          path: 'topology.shutdownTimeout',
          message:
            'invalid duration "10 secs": write milliseconds as a number or a string like "250ms", "2s", "1m"',
        },
        {
          path: 'topology.rpc.bodyLimit',
          message: 'invalid size "huge": write bytes as a number or a string like "64kb", "1mb"',
        },
        {
          path: 'topology.processes.main.listen.port',
          message: 'invalid port 70000: use a whole number from 0 to 65535',
        },
        {
          path: 'topology.processes.side.listen.port',
          message: 'invalid port "eighty": use a whole number from 0 to 65535',
        },
      ]),
    );
  });

  it('refuses a missing app, an empty processes map and a bad address', () => {
    expect(
      topologyError(() => parseTopology({ processes: { main: { services: [] } } })).issues[0]!.path,
    ).toBe('topology.app');
    expect(topologyError(() => parseTopology({ app: './app.js', processes: {} })).issues).toEqual([
      {
        path: 'topology.processes',
        message: 'no processes; add at least one, e.g. { "main": { "services": [...] } }',
      },
    ]);
    expect(
      topologyError(() =>
        parseTopology({ app: './app.js', processes: { main: { services: [], address: 'localhost:4001' } } }),
      ).issues,
    ).toEqual([
      {
        path: 'topology.processes.main.address',
        message: 'invalid address "localhost:4001": it has no scheme; write "http://localhost:4001"',
      },
    ]);
  });

  it('names the bad part of an address, and the bad value of a port or flag', () => {
    const issue = (processes: Record<string, unknown>) =>
      topologyError(() => parseTopology({ app: './app.js', processes })).issues[0]?.message;
    expect(issue({ main: { services: [], address: 'http://127.0.0.1:99999' } })).toBe(
      'invalid address "http://127.0.0.1:99999": port 99999 is out of range; use a port from 0 to 65535 (0 picks a free one)',
    );
    expect(issue({ main: { services: [], address: 'ftp://127.0.0.1:4001' } })).toBe(
      'invalid address "ftp://127.0.0.1:4001": the scheme must be http://, https://, tcp:// or tcps://, not ftp://',
    );
    expect(issue({ main: { services: [], address: 'tcp://127.0.0.1' } })).toBe(
      'invalid address "tcp://127.0.0.1": a tcp:// address needs a port, e.g. "tcp://127.0.0.1:4001"',
    );
    expect(issue({ main: { services: [], address: 'http://127.0.0.1:4001/rpc' } })).toBe(
      'invalid address "http://127.0.0.1:4001/rpc": give the base URL only (no path, query or fragment)',
    );
    expect(issue({ main: { services: [], listen: { port: true } } })).toBe(
      'invalid port true: use a whole number from 0 to 65535',
    );
    expect(
      topologyError(() =>
        parseTopology({
          app: './app.js',
          rpc: { type: 'local', serialize: 'yes' },
          processes: { main: { services: [] } },
        }),
      ).issues[0]?.message,
    ).toBe('invalid flag "yes": use true or false');
  });

  it('reports every problem of a file at once', () => {
    const error = topologyError(() =>
      parseTopology({
        app: './app.js',
        bogus: true,
        shutdownTimeout: 'soon',
        rpc: { type: 'smoke' },
        processes: {},
      }),
    );
    expect(error.issues.length).toBeGreaterThanOrEqual(3);
  });
});

describe('environment interpolation', () => {
  const withAddress = (address: string) => ({
    app: './app.js',
    rpc: { type: 'http', timeout: '${RPC_TIMEOUT:-2s}' },
    auth: 'none',
    processes: { main: { services: ['alpha', 'beta'], address } },
  });

  it('uses the default of ${VAR:-default} when VAR is unset or empty, the value otherwise', () => {
    const address = 'http://${HOST:-127.0.0.1}:${PORT:-4001}';
    expect(parseTopology(withAddress(address), { env: {} }).processes.main!.address).toBe(
      'http://127.0.0.1:4001',
    );
    expect(parseTopology(withAddress(address), { env: { PORT: '' } }).processes.main!.address).toBe(
      'http://127.0.0.1:4001',
    );
    const set = parseTopology(withAddress(address), {
      env: { HOST: '10.0.0.2', PORT: '5000', RPC_TIMEOUT: '3s' },
    });
    expect(set.processes.main!.address).toBe('http://10.0.0.2:5000');
    expect(set.rpc).toMatchObject({ timeout: 3_000 });
    expect(parseTopology(withAddress(address), { env: {} }).rpc).toMatchObject({ timeout: 2_000 });
  });

  it('validates interpolated values like written ones', () => {
    const error = topologyError(() =>
      parseTopology(withAddress('http://127.0.0.1:4001'), { env: { RPC_TIMEOUT: 'later' } }),
    );
    expect(error.issues).toEqual([
      { path: 'topology.rpc.timeout', message: expect.stringContaining('"later"') },
    ]);
  });

  it('refuses ${VAR} without a default when VAR is unset, naming every path', () => {
    const error = topologyError(() =>
      parseTopology(
        { ...withAddress('http://${HOST}:4001'), name: '${APP_NAME}' },
        { env: {}, source: 'topology/split.json' },
      ),
    );
    expect(error.issues).toEqual(
      expect.arrayContaining([
        {
          path: 'topology.processes.main.address',
          message: 'environment variable HOST is not set; set it or give a default with ${HOST:-value}',
        },
        { path: 'topology.name', message: expect.stringContaining('APP_NAME is not set') },
      ]),
    );
    expect(error.message).toContain('topology/split.json');
  });

  it('keeps an empty value for ${VAR} when VAR is set but empty', () => {
    expect(interpolateEnv({ a: 'x${EMPTY}y', b: ['${EMPTY:-d}'] }, { EMPTY: '' })).toEqual({
      a: 'xy',
      b: ['d'],
    });
  });

  it('interpolateEnv throws a TopologyError with issues for an unset variable', () => {
    const error = topologyError(() => interpolateEnv({ list: ['${MISSING}'] }, {}));
    expect(error.issues).toEqual([{ path: 'topology.list[0]', message: expect.stringContaining('MISSING') }]);
  });
});

describe('topology files', () => {
  it('loads a file and resolves app relative to it', () => {
    const file = writeTopology('ok.json', JSON.stringify(minimal));
    const topology = loadTopologyFile(file);
    expect(topology.baseDir).toBe(dir);
    expect(topology.source).toBe(file);
  });

  it('refuses malformed JSON, naming the file and the fix', () => {
    const file = writeTopology('broken.json', '{ "app": "./app.js", "processes": { }, }');
    const error = topologyError(() => loadTopologyFile(file));
    expect(error.message).toContain(file);
    expect(error.message).toContain('is not valid JSON');
    expect(error.message).toContain('no comments or trailing commas');
  });

  it('refuses __proto__ and constructor.prototype keys', () => {
    const proto = writeTopology(
      'proto.json',
      '{ "app": "./app.js", "__proto__": { "polluted": true }, "processes": {} }',
    );
    expect(topologyError(() => loadTopologyFile(proto)).message).toContain('is not valid JSON');
    const ctor = writeTopology(
      'ctor.json',
      '{ "app": "./app.js", "constructor": { "prototype": { "polluted": true } }, "processes": {} }',
    );
    expect(topologyError(() => loadTopologyFile(ctor)).message).toContain('is not valid JSON');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a missing file, naming the path', () => {
    const missing = path.join(dir, 'nope.json');
    const error = topologyError(() => loadTopologyFile(missing));
    expect(error.message).toContain(`cannot read topology file ${missing}: no such file`);
  });

  it('reports errors of a file with the file as source', () => {
    const file = writeTopology('unknown-key.json', JSON.stringify({ ...minimal, extra: 1 }));
    const error = topologyError(() => loadTopologyFile(file));
    expect(error.message).toContain(`invalid topology ${file}`);
    expect(error.details).toMatchObject({ source: file });
  });
});

describe('topology against the app', () => {
  it.each([
    {
      what: 'refuses a service placed nowhere',
      processes: { main: { services: ['alpha'] } },
      issue: {
        path: 'topology.processes',
        message: 'service "beta" is placed nowhere; add it to the "services" of one process',
      },
    },
    {
      what: 'refuses an unknown service, listing the services of the app',
      processes: { main: { services: ['alpha', 'beta', 'gamma'] } },
      issue: {
        path: 'topology.processes.main.services[2]',
        message: 'unknown service "gamma"; the app "shop" has: alpha, beta',
      },
    },
    {
      what: 'refuses several processes with the local rpc transport',
      processes: { one: { services: ['alpha'] }, two: { services: ['beta'] } },
      issue: {
        path: 'topology.rpc.type',
        message:
          'rpc "local" only reaches services in the same process, but this topology has several processes; use "http"',
      },
    },
  ])('$what', ({ processes, issue }) => {
    const topology = parseTopology({ app: './app.js', processes });
    expect(topologyError(() => checkTopologyAgainstApp(topology, app)).issues).toEqual([issue]);
  });

  it('createApp refuses an unknown process, listing the known ones', async () => {
    const split = httpSplit({ one: { services: ['alpha'] }, two: { services: ['beta'] } });
    const unknown = await createAppError(createApp(app, { topology: split, process: 'three' }));
    expect(unknown.issues).toEqual([
      { path: 'topology.processes', message: 'unknown process "three"; the topology has: one, two' },
    ]);
    const unnamed = await createAppError(createApp(app, { topology: split }));
    expect(unnamed.message).toContain(
      'the topology has several processes (one, two); choose one with --process',
    );
  });

  it('createApp reports the errors of a topology file', async () => {
    const file = writeTopology(
      'nowhere.json',
      JSON.stringify({ app: './app.js', processes: { main: { services: ['alpha'] } } }),
    );
    const error = await createAppError(createApp(app, { topology: file }));
    expect(error.message).toContain(file);
    expect(error.issues[0]!.message).toContain('"beta" is placed nowhere');
  });
});

describe('replicas on consecutive ports', () => {
  const processes = (ordersPort: number) => ({
    products: { services: ['products'], address: 'http://127.0.0.1:4101', replicas: 2 },
    orders: { services: ['orders'], address: `http://127.0.0.1:${ordersPort}` },
  });

  it('refuses a replica whose port is another process’s address, naming both', () => {
    const { issues } = topologyError(() => parseTopology(httpSplit(processes(4102))));
    expect(issues).toContainEqual({
      path: 'topology.processes.orders.address',
      message: expect.stringMatching(
        /address 127\.0\.0\.1:4102 of process "orders" is also the address of replica 2 of process "products"/,
      ),
    });
  });

  it('refuses admin ports that a replica’s admin port reaches', () => {
    const { issues } = topologyError(() =>
      parseTopology(httpSplit(processes(4103), { admin: { port: { products: 9462, orders: 9463 } } })),
    );
    expect(issues).toEqual([
      {
        path: 'topology.admin.port.orders',
        message: expect.stringContaining(
          'admin port 9463 of process "orders" is also the admin port of replica 2',
        ),
      },
    ]);
  });

  it('accepts ports the replicas do not reach, and two single processes behind one balancer address', () => {
    expect(() =>
      parseTopology(httpSplit(processes(4103), { admin: { port: { products: 9462, orders: 9464 } } })),
    ).not.toThrow();
    expect(() =>
      parseTopology(
        httpSplit({
          products: { services: ['products'], address: 'http://balancer:8080' },
          orders: { services: ['orders'], address: 'http://balancer:8080' },
        }),
      ),
    ).not.toThrow();
  });
});
