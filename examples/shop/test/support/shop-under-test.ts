/**
 * Runs the shop for the scenario suite, as a monolith in this process or as four real child
 * processes over HTTP and Redis, behind one interface so the same assertions run against both.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BlueprintApp, createApp, type LogDestination } from '@blueprint/core';
import { getFreePort, waitFor } from '../../../../test/harness/index.js';
import { app } from '../../src/app.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repositoryRoot = path.resolve(here, '../../../..');
/** The shop's topology files. */
export const TOPOLOGY = {
  monolith: path.resolve(here, '../../topology/monolith.json'),
  split: path.resolve(here, '../../topology/split.json'),
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
    /** The log lines written so far (when no `logDestination` was given). */
    output(): string;
  }
> {
  const port = await getFreePort();
  const lines: string[] = [];
  const shop = await createApp(app, {
    topology: TOPOLOGY.monolith,
    env: { ...process.env, ...options.env, PORT: String(port), DATA_DIR: ':memory:' },
    logDestination: options.logDestination ?? { write: (line) => void lines.push(line) },
  });
  await shop.start();
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    topology: 'monolith',
    app: shop,
    output: () => lines.join(''),
    baseUrl,
    request: (method, url, body, headers) => request(baseUrl, method, url, body, headers),
    stop: () => shop.stop(),
  };
}

/** A process of the split shop that a test can kill and start again. */
export interface SplitShop extends ShopUnderTest {
  /** Kills a process with SIGKILL (a crash) and waits for it to exit. */
  kill(name: SplitProcess): Promise<void>;
  /** Starts a killed process again and waits until it answers. */
  restart(name: SplitProcess): Promise<void>;
  /** Sends SIGTERM to a process and resolves to its exit code. */
  terminate(name: SplitProcess): Promise<number | null>;
  /** Output of a process so far: its standard output (log lines) and error. */
  output(name: SplitProcess): string;
  /** The URL of a process's `GET /metrics`: the gateway's public port, or the RPC server of the others. */
  metricsUrl(name: SplitProcess): string;
}

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
    PRODUCTS_PORT: String(await getFreePort()),
    ORDERS_PORT: String(await getFreePort()),
    PAYMENTS_PORT: String(await getFreePort()),
    NO_COLOR: '1',
    BLUEPRINT_CLI_SOURCE: '1',
  };
  const baseUrl = `http://127.0.0.1:${env.PORT}`;
  const rpcPorts: Record<Exclude<SplitProcess, 'gateway'>, string> = {
    products: env.PRODUCTS_PORT!,
    orders: env.ORDERS_PORT!,
    payments: env.PAYMENTS_PORT!,
  };
  const children = new Map<SplitProcess, ChildProcess>();
  const outputs = new Map<SplitProcess, string>();

  const live = async (name: SplitProcess): Promise<boolean> => {
    const url =
      name === 'gateway' ? `${baseUrl}/health/live` : `http://127.0.0.1:${rpcPorts[name]}/health/live`;
    try {
      return (await fetch(url)).status === 200;
    } catch {
      return false;
    }
  };

  const imports = (options.imports ?? []).flatMap((module) => [
    '--import',
    module.includes('://') ? module : pathToFileURL(path.resolve(module)).href,
  ]);
  const envOf = (name: SplitProcess) => ({
    ...env,
    ...(typeof options.env === 'function' ? options.env(name) : options.env),
  });

  const launch = async (name: SplitProcess) => {
    outputs.set(name, outputs.get(name) ?? '');
    const args = [...imports, CLI, 'start', '--topology', TOPOLOGY.split, '--process', name];
    const child = spawn(process.execPath, args, {
      cwd: repositoryRoot,
      env: envOf(name),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => outputs.set(name, (outputs.get(name) ?? '') + chunk.toString());
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    children.set(name, child);
    await waitFor(() => live(name), {
      timeout: 30_000,
      interval: 50,
      message: `process ${name} to answer /health/live; output:\n${outputs.get(name)}`,
    });
  };

  const exited = (child: ChildProcess) =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
      else child.once('exit', (code) => resolve(code));
    });

  const shop: SplitShop = {
    topology: 'split',
    baseUrl,
    request: (method, url, body, headers) => request(baseUrl, method, url, body, headers),
    async kill(name) {
      const child = children.get(name);
      if (!child) return;
      child.kill('SIGKILL');
      await exited(child);
    },
    restart: (name) => launch(name),
    async terminate(name) {
      const child = children.get(name);
      if (!child) return null;
      child.kill('SIGTERM');
      return exited(child);
    },
    output: (name) => outputs.get(name) ?? '',
    metricsUrl: (name) =>
      name === 'gateway' ? `${baseUrl}/metrics` : `http://127.0.0.1:${rpcPorts[name]}/metrics`,
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
