/**
 * Runs the shop for the scenario suite, as a monolith in this process or as four real child
 * processes over HTTP and Redis, behind one interface so the same assertions run against both.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BlueprintApp, createApp } from '@blueprint/core';
import type { LogDestination } from '@blueprint/core/plugin';
import { getFreePort, getFreePortRange, startKafka, waitFor } from '../../../../test/harness/index.js';
import { app } from '../../src/app.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repositoryRoot = path.resolve(here, '../../../..');
/** The shop's topology files. */
export const TOPOLOGY = {
  monolith: path.resolve(here, '../../topology/monolith.json'),
  split: path.resolve(here, '../../topology/split.json'),
  splitKafka: path.resolve(here, '../../topology/split-kafka.json'),
} as const;
const CLI = path.join(repositoryRoot, 'packages/core/bin/blueprint.js');

/** The processes of the split topology. */
export type SplitProcess = 'gateway' | 'products' | 'orders' | 'payments';
const SPLIT_PROCESSES: readonly SplitProcess[] = ['products', 'orders', 'payments', 'gateway'];

/** A running shop. */
export interface ShopUnderTest {
  /** `monolith` or `split`. */
  readonly topology: 'monolith' | 'split';
  /** Base URL of the public HTTP API. */
  readonly baseUrl: string;
  /** Sends a JSON request to the public API. */
  request(
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ShopResponse>;
  /** Stops everything and removes the data directory. */
  stop(): Promise<void>;
}

/** Options of {@link startMonolith}. */
export interface MonolithOptions {
  /** Where the app's log lines go (one JSON line per write). Default: kept for `output()`. */
  readonly logDestination?: LogDestination;
  /** Extra environment variables for the topology (`LOG_LEVEL`, ...). */
  readonly env?: Readonly<Record<string, string>>;
}

/** A response of the public API. */
export interface ShopResponse {
  readonly status: number;
  readonly body: any;
  readonly headers: Headers;
}

async function request(
  baseUrl: string,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ShopResponse> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${baseUrl}${url}`, init);
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** Starts the monolith in this process, with in-memory databases and a free port. */
export async function startMonolith(options: MonolithOptions = {}): Promise<
  ShopUnderTest & {
    readonly app: BlueprintApp;
    /** The URL of the process's admin listener (`/metrics`, detailed `/health/ready`). */
    readonly adminUrl: string;
    /** The log lines written so far (when no `logDestination` was given). */
    output(): string;
  }
> {
  const port = await getFreePort();
  const lines: string[] = [];
  const shop = await createApp(app, {
    topology: TOPOLOGY.monolith,
    env: { ...process.env, ...options.env, PORT: String(port), DATA_DIR: ':memory:', ADMIN_PORT: '0' },
    logDestination: options.logDestination ?? { write: (line) => void lines.push(line) },
  });
  await shop.start();
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    topology: 'monolith',
    app: shop,
    adminUrl: shop.adminUrl!,
    output: () => lines.join(''),
    baseUrl,
    request: (method, url, body, headers) => request(baseUrl, method, url, body, headers),
    stop: () => shop.stop(),
  };
}

/** A process of the split shop that a test can kill and start again. */
export interface SplitShop extends ShopUnderTest {
  /** The processes' data directory (one SQLite file per service). */
  readonly dataDir: string;
  /** Kills a process with SIGKILL (a crash) and waits for it to exit. */
  kill(name: SplitProcess): Promise<void>;
  /** Starts a killed process again and waits until it answers. */
  restart(name: SplitProcess): Promise<void>;
  /** Sends SIGTERM to a process and resolves to its exit code. */
  terminate(name: SplitProcess): Promise<number | null>;
  /** Output of a process so far (of all its replicas): its standard output (log lines) and error. */
  output(name: SplitProcess): string;
  /** The URL of a process's `GET /metrics`, on its admin listener (its first replica's). */
  metricsUrl(name: SplitProcess): string;
  /** The `GET /metrics` URL of every replica of a process. */
  metricsUrls(name: SplitProcess): string[];
  /** Restarts one replica gracefully: SIGTERM, wait for its exit (code returned), start it, wait until it answers. */
  restartReplica(name: SplitProcess, replica: number): Promise<number | null>;
}

/** Replicas of each process in topology/split.json. */
export const SPLIT_REPLICAS: Readonly<Record<SplitProcess, number>> = {
  products: 2,
  orders: 1,
  payments: 1,
  gateway: 1,
};

/** Options of {@link startSplit}. */
export interface SplitOptions {
  /** Extra environment variables, for every process or by process. */
  readonly env?:
    | Readonly<Record<string, string>>
    | ((name: SplitProcess) => Readonly<Record<string, string>>);
  /**
   * Modules each process imports before anything else (`node --import`), e.g. an OpenTelemetry SDK
   * bootstrap. Paths or URLs.
   */
  readonly imports?: readonly string[];
  /** The split topology file to run: `TOPOLOGY.split` (events on Redis Streams) or `TOPOLOGY.splitKafka`. Default `TOPOLOGY.split`. */
  readonly topologyFile?: string;
}

/**
 * Starts the four processes of the split topology through the `blueprint` CLI, with their own data
 * directory, free ports and the given Redis, and waits until the gateway reports ready.
 */
export async function startSplit(redisUrl: string, options: SplitOptions = {}): Promise<SplitShop> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'blueprint-shop-'));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    REDIS_URL: redisUrl,
    DATA_DIR: dataDir,
    PORT: String(await getFreePort()),
    PRODUCTS_PORT: String(await getFreePortRange(SPLIT_REPLICAS.products)),
    ORDERS_PORT: String(await getFreePort()),
    PAYMENTS_PORT: String(await getFreePort()),
    GATEWAY_ADMIN_PORT: String(await getFreePort()),
    PRODUCTS_ADMIN_PORT: String(await getFreePortRange(SPLIT_REPLICAS.products)),
    ORDERS_ADMIN_PORT: String(await getFreePort()),
    PAYMENTS_ADMIN_PORT: String(await getFreePort()),
    SERVICE_SECRET: randomBytes(32).toString('base64url'),
    NO_COLOR: '1',
    BLUEPRINT_CLI_SOURCE: '1',
  };
  const baseUrl = `http://127.0.0.1:${env.PORT}`;
  const adminPorts: Record<SplitProcess, string> = {
    gateway: env.GATEWAY_ADMIN_PORT!,
    products: env.PRODUCTS_ADMIN_PORT!,
    orders: env.ORDERS_ADMIN_PORT!,
    payments: env.PAYMENTS_ADMIN_PORT!,
  };
  /** One child per replica: `products#1` is replica 1 of products. */
  type Unit = `${SplitProcess}#${number}`;
  const unitsOf = (name: SplitProcess): Unit[] =>
    Array.from({ length: SPLIT_REPLICAS[name] }, (_, replica) => `${name}#${replica}` as Unit);
  const adminUrl = (name: SplitProcess, replica = 0) =>
    `http://127.0.0.1:${Number(adminPorts[name]) + replica}`;
  const children = new Map<Unit, ChildProcess>();
  const outputs = new Map<SplitProcess, string>();

  const live = async (name: SplitProcess, replica: number): Promise<boolean> => {
    try {
      return (await fetch(`${adminUrl(name, replica)}/health/live`)).status === 200;
    } catch {
      return false;
    }
  };

  const topologyFile = options.topologyFile ?? TOPOLOGY.split;
  const imports = (options.imports ?? []).flatMap((module) => [
    '--import',
    module.includes('://') ? module : pathToFileURL(path.resolve(module)).href,
  ]);
  const envOf = (name: SplitProcess) => ({
    ...env,
    ...(typeof options.env === 'function' ? options.env(name) : options.env),
  });

  const launchReplica = async (name: SplitProcess, replica: number) => {
    outputs.set(name, outputs.get(name) ?? '');
    const args = [...imports, CLI, 'start', '--topology', topologyFile, '--process', name];
    if (SPLIT_REPLICAS[name] > 1) args.push('--replica', String(replica));
    const child = spawn(process.execPath, args, {
      cwd: repositoryRoot,
      env: envOf(name),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => outputs.set(name, (outputs.get(name) ?? '') + chunk.toString());
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    children.set(`${name}#${replica}`, child);
    await waitFor(() => live(name, replica), {
      timeout: 30_000,
      interval: 50,
      message: `process ${name} (replica ${replica}) to answer /health/live; output:\n${outputs.get(name)}`,
    });
  };
  const launch = async (name: SplitProcess) => {
    for (let replica = 0; replica < SPLIT_REPLICAS[name]; replica++) await launchReplica(name, replica);
  };
  const running = (name: SplitProcess) =>
    unitsOf(name).flatMap((unit) => {
      const child = children.get(unit);
      return child === undefined ? [] : [child];
    });

  const exited = (child: ChildProcess) =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
      else child.once('exit', (code) => resolve(code));
    });

  const shop: SplitShop = {
    topology: 'split',
    dataDir,
    baseUrl,
    request: (method, url, body, headers) => request(baseUrl, method, url, body, headers),
    async kill(name) {
      await Promise.all(
        running(name).map((child) => {
          child.kill('SIGKILL');
          return exited(child);
        }),
      );
    },
    restart: (name) => launch(name),
    async terminate(name) {
      const codes = await Promise.all(
        running(name).map((child) => {
          child.kill('SIGTERM');
          return exited(child);
        }),
      );
      return codes.find((code) => code !== 0) ?? codes[0] ?? null;
    },
    async restartReplica(name, replica) {
      const child = children.get(`${name}#${replica}`);
      let code: number | null = null;
      if (child !== undefined) {
        child.kill('SIGTERM');
        code = await exited(child);
      }
      await launchReplica(name, replica);
      return code;
    },
    output: (name) => outputs.get(name) ?? '',
    metricsUrl: (name) => `${adminUrl(name)}/metrics`,
    metricsUrls: (name) => unitsOf(name).map((_, replica) => `${adminUrl(name, replica)}/metrics`),
    async stop() {
      await Promise.all(
        [...children.values()].map(async (child) => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            await exited(child);
            clearTimeout(timer);
          }
        }),
      );
      await rm(dataDir, { recursive: true, force: true });
    },
  };

  try {
    for (const name of SPLIT_PROCESSES) await launch(name);
    await waitFor(async () => (await shop.request('GET', '/health/ready')).status === 200, {
      timeout: 30_000,
      interval: 100,
      message: 'the gateway to report ready',
    });
  } catch (error) {
    await shop.stop();
    throw error;
  }
  return shop;
}

/**
 * Starts a private Kafka broker and the split topology with events on it (`topology/split-kafka.json`;
 * the cache stays on the given Redis). `stop()` stops the processes, then the broker.
 */
export async function startSplitOnKafka(redisUrl: string, options: SplitOptions = {}): Promise<SplitShop> {
  const kafka = await startKafka();
  try {
    const extra = options.env;
    const shop = await startSplit(redisUrl, {
      ...options,
      topologyFile: TOPOLOGY.splitKafka,
      env: (name) => ({
        ...(typeof extra === 'function' ? extra(name) : extra),
        KAFKA_BROKERS: kafka.bootstrap,
        KAFKA_SESSION_TIMEOUT: '6s',
      }),
    });
    return {
      ...shop,
      async stop() {
        await shop.stop();
        await kafka.stop();
      },
    };
  } catch (error) {
    await kafka.stop();
    throw error;
  }
}
