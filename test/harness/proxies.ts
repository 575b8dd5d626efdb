/**
 * Private `nginx` and `haproxy` processes on free loopback ports, for tests that put replicas behind a
 * real load balancer or reverse proxy.
 *
 * A test passes its config as a function of the ports the harness picked; the harness writes it into a
 * temp dir, checks it (`nginx -t`, `haproxy -c`, whose output becomes the error), runs the server in the
 * foreground as a child process and waits until every listen port accepts connections. Cleanup is the
 * one of `servers.ts`: `stop()`, exit and signal handlers, and a detached watchdog; nginx runs in its own
 * process group so its workers die with it.
 */
import { execFile } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../../packages/core/src/testing/wait-for.js';
import {
  acceptsConnections,
  childPids,
  findBinary,
  getFreePort,
  type LaunchedServer,
  LOOPBACK,
  launch,
  type ServerSpec,
} from './servers.js';

const RELOAD_TIMEOUT_MS = 10_000;
const OLD_WORKERS_GRACE_MS = 2_000;
const POLL_INTERVAL_MS = 25;

/** What a proxy's `config` function receives. */
export interface ProxyConfigContext {
  /** The loopback address to listen on (`127.0.0.1`). */
  readonly host: string;
  /** The first free port (`ports[0]`): the handle's `port` and `url`. */
  readonly port: number;
  /** As many distinct free ports as `listeners` asked for, `port` first. */
  readonly ports: readonly number[];
  /** The server's private temp dir, for pid files, logs, sockets and temp files; removed on `stop()`. */
  readonly dir: string;
}

/**
 * Returns the config file's text for the ports the harness picked. It is called again, with the same
 * context, by `reload()`, so it may read state that changed (a new upstream list).
 *
 * @example
 * const config: ProxyConfig = ({ port }) => `http { server { listen 127.0.0.1:${port}; return 204; } }`;
 */
export type ProxyConfig = (ctx: ProxyConfigContext) => string;

/** Options of {@link startNginx} and {@link startHaproxy}. */
export interface ProxyOptions {
  /** The config file, as a function of the picked ports and temp dir. Required. */
  config: ProxyConfig;
  /** How many free ports to pick (`ctx.ports`); the start waits until all accept. Default `1`. */
  listeners?: number;
  /** Scheme of the handle's `url`, e.g. `'https'` for a TLS listener on `port`. Default `'http'`. */
  scheme?: string;
}

/** A running nginx or haproxy owned by the test run. */
export interface ProxyHandle {
  /** `<scheme>://127.0.0.1:<port>`. */
  readonly url: string;
  /** The loopback address it listens on (`127.0.0.1`). */
  readonly host: string;
  /** The first listen port (`ctx.port`). */
  readonly port: number;
  /** Every port picked for the config (`ctx.ports`). */
  readonly ports: readonly number[];
  /** The temp dir holding the config file, pid file, logs and temp files (`ctx.dir`). */
  readonly dir: string;
  /** Path of the config file in use. */
  readonly configPath: string;
  /** The text of the config file in use (for nginx including the lines the harness added). */
  readonly configText: string;
  /** Process id of the server (the nginx master); changes on `restart()` and haproxy's `reload()`. */
  readonly pid: number;
  /** Whether the server process has not exited yet. */
  readonly running: boolean;
  /** Last lines the server printed on stdout/stderr (nginx's error log goes there unless configured). */
  readonly output: string;
  /**
   * Writes the config again (`config` replaces the current function; default: calls the current one
   * again), checks it, and applies it: nginx re-reads it on SIGHUP and the promise resolves once new
   * workers run it; haproxy is restarted on the same ports (open connections are cut).
   * A config the check rejects throws and leaves the running server as it was.
   */
  reload(config?: ProxyConfig): Promise<void>;
  /** Sends `signal` (default `SIGKILL`, a crash; nginx: to master and workers) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again with the current config on the same ports; throws after `stop()`. */
  restart(): Promise<void>;
  /** Ends the server for good (SIGTERM, SIGKILL after 5 s) and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Same as `stop()`, for `await using proxy = await startNginx({ config })`. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface ProxyKind {
  readonly binary: string;
  readonly aptPackage: string;
  readonly brewFormula: string;
  readonly processGroup: boolean;
  readonly fileName: string;
  /** The text written to the config file. */
  render(text: string, dir: string): string;
  runArgs(configPath: string, dir: string): string[];
  checkArgs(configPath: string, dir: string): string[];
  /** Applies an already checked, already written config to the running server. */
  apply(server: LaunchedServer): Promise<void>;
}

const NGINX_TEMP_PATHS = [
  'client_body_temp_path',
  'proxy_temp_path',
  'fastcgi_temp_path',
  'uwsgi_temp_path',
  'scgi_temp_path',
];

const nginx: ProxyKind = {
  binary: 'nginx',
  aptPackage: 'nginx',
  brewFormula: 'nginx',
  processGroup: true,
  fileName: 'nginx.conf',
  render: renderNginxConfig,
  // `-p` and `-e` keep nginx off its compiled-in prefix and error log (`/usr/share/nginx`, `/var/log`).
  runArgs: (configPath, dir) => ['-p', `${dir}/`, '-e', 'stderr', '-c', configPath, '-g', 'daemon off;'],
  checkArgs: (configPath, dir) => ['-t', ...nginx.runArgs(configPath, dir)],
  apply: reloadNginx,
};

const haproxy: ProxyKind = {
  binary: 'haproxy',
  aptPackage: 'haproxy',
  brewFormula: 'haproxy',
  processGroup: false,
  fileName: 'haproxy.cfg',
  render: (text) => (text.endsWith('\n') ? text : `${text}\n`),
  runArgs: (configPath) => ['-f', configPath, '-db'],
  checkArgs: (configPath) => ['-c', '-f', configPath],
  apply: (server) => server.restart(),
};

/**
 * Starts a private `nginx` (master and workers, in the foreground) with the config `config` returns and
 * waits until its listen ports accept connections.
 *
 * So that it runs as root or not without touching `/var`, the harness passes `-p <dir>/ -e stderr
 * -g 'daemon off;'` and adds what the config does not set itself: `pid <dir>/nginx.pid;`, an empty
 * `events {}`, and inside `http {}` the `*_temp_path`s as `<dir>/*_temp` and `access_log <dir>/access.log`.
 * Do not set `daemon` in the config. The error log goes to stderr and shows in `output` and in errors.
 * Open-source nginx has only passive health checks (`max_fails`, `fail_timeout`, `proxy_next_upstream`).
 *
 * @example
 * await using proxy = await startNginx({
 *   config: ({ port }) => `
 *     http {
 *       upstream replicas { server 127.0.0.1:${a}; server 127.0.0.1:${b}; }
 *       server { listen 127.0.0.1:${port}; location / { proxy_pass http://replicas; } }
 *     }`,
 * });
 * await fetch(proxy.url);
 */
export function startNginx(options: ProxyOptions): Promise<ProxyHandle> {
  return startProxy(nginx, options);
}

/**
 * Starts a private `haproxy` in the foreground (`haproxy -f <file> -db`) with the config `config` returns
 * and waits until its listen ports accept connections. The config is used as written; `ctx.dir` is the
 * place for a `stats socket`. `reload()` restarts it on the same ports.
 *
 * @example
 * await using proxy = await startHaproxy({
 *   config: ({ port }) => `
 *     defaults
 *       mode http
 *       timeout connect 1s
 *       timeout client 5s
 *       timeout server 5s
 *     frontend web
 *       bind 127.0.0.1:${port}
 *       default_backend replicas
 *     backend replicas
 *       server a 127.0.0.1:${a} check
 *       server b 127.0.0.1:${b} check`,
 * });
 */
export function startHaproxy(options: ProxyOptions): Promise<ProxyHandle> {
  return startProxy(haproxy, options);
}

async function startProxy(kind: ProxyKind, options: ProxyOptions): Promise<ProxyHandle> {
  const listeners = options.listeners ?? 1;
  if (!Number.isInteger(listeners) || listeners < 1)
    throw new Error(`${kind.binary}: listeners must be a positive integer, got ${listeners}`);
  const path = findBinary(kind);
  const state: ProxyState = { kind, path, config: options.config, ctx: undefined, text: '' };
  const spec: ServerSpec = {
    binary: kind.binary,
    aptPackage: kind.aptPackage,
    brewFormula: kind.brewFormula,
    scheme: kind.binary,
    processGroup: kind.processGroup,
    url: (port) => `${options.scheme ?? 'http'}://${LOOPBACK}:${port}`,
    args: (_port, dir) => kind.runArgs(join(dir, kind.fileName), dir),
    isReady: async () => {
      const ports = state.ctx?.ports ?? [];
      const accepted = await Promise.all(ports.map((port) => acceptsConnections(port)));
      return accepted.every(Boolean);
    },
    prepare: async (port, dir) => {
      // nginx workers run as `nobody` under root and must reach their temp paths inside the dir.
      await chmod(dir, 0o755);
      state.ctx = { host: LOOPBACK, port, ports: await freePorts(port, listeners), dir };
      await writeChecked(state);
    },
  };
  return new RunningProxy(await launch(spec, undefined, undefined), state);
}

interface ProxyState {
  readonly kind: ProxyKind;
  readonly path: string;
  config: ProxyConfig;
  ctx: ProxyConfigContext | undefined;
  text: string;
}

class RunningProxy implements ProxyHandle {
  private reloading: Promise<void> = Promise.resolve();

  constructor(
    private readonly server: LaunchedServer,
    private readonly state: ProxyState,
  ) {}

  get url(): string {
    return this.server.url;
  }
  get host(): string {
    return this.server.host;
  }
  get port(): number {
    return this.server.port;
  }
  get ports(): readonly number[] {
    return this.context.ports;
  }
  get dir(): string {
    return this.server.dir;
  }
  get configPath(): string {
    return join(this.server.dir, this.state.kind.fileName);
  }
  get configText(): string {
    return this.state.text;
  }
  get pid(): number {
    return this.server.pid;
  }
  get running(): boolean {
    return this.server.running;
  }
  get output(): string {
    return this.server.lastOutput;
  }

  reload(config?: ProxyConfig): Promise<void> {
    const next = this.reloading.then(async () => {
      if (!this.server.running) throw new Error(`${this.state.kind.binary} is not running; restart() it`);
      const previous = { config: this.state.config, text: this.state.text };
      if (config !== undefined) this.state.config = config;
      try {
        await writeChecked(this.state);
      } catch (error) {
        // The rejected file is left for inspection only until the running server is back on the old one.
        Object.assign(this.state, previous);
        await writeFile(this.configPath, previous.text);
        throw error;
      }
      await this.state.kind.apply(this.server);
    });
    this.reloading = next.catch(() => undefined);
    return next;
  }

  kill(signal?: NodeJS.Signals): Promise<void> {
    return this.server.kill(signal);
  }

  restart(): Promise<void> {
    return this.server.restart();
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  private get context(): ProxyConfigContext {
    if (this.state.ctx === undefined) throw new Error(`${this.state.kind.binary} has no config context`);
    return this.state.ctx;
  }
}

/** Renders the config, writes it, and runs the server's own check on it; the check's output is the error. */
async function writeChecked(state: ProxyState): Promise<void> {
  const ctx = state.ctx;
  if (ctx === undefined) throw new Error(`${state.kind.binary}: no ports were picked yet`);
  const text = state.kind.render(state.config(ctx), ctx.dir);
  const configPath = join(ctx.dir, state.kind.fileName);
  await writeFile(configPath, text);
  state.text = text;
  const check = await run(state.path, state.kind.checkArgs(configPath, ctx.dir));
  if (check.code !== 0) {
    throw new Error(
      `${state.kind.binary} rejected its config (\`${state.kind.binary} ${state.kind.checkArgs(configPath, ctx.dir).join(' ')}\` ` +
        `exited with ${check.code}):\n${check.output.trim()}\n--- ${configPath} ---\n${numbered(text)}`,
    );
  }
}

/** `port` plus `count - 1` other free ports, all distinct. */
async function freePorts(port: number, count: number): Promise<number[]> {
  const ports = [port];
  while (ports.length < count) {
    const candidate = await getFreePort();
    if (!ports.includes(candidate)) ports.push(candidate);
  }
  return ports;
}

/** Adds what keeps nginx inside `dir` (see {@link startNginx}), leaving directives the config sets alone. */
function renderNginxConfig(text: string, dir: string): string {
  const has = (directive: string) => new RegExp(`(^|[\\s;{}])${directive}\\s`).test(text);
  const quoted = (path: string) => JSON.stringify(path);
  const main: string[] = [];
  if (!has('pid')) main.push(`pid ${quoted(join(dir, 'nginx.pid'))};`);
  if (!/(^|[\s;{}])events\s*\{/.test(text)) main.push('events {}');
  const http = NGINX_TEMP_PATHS.filter((directive) => !has(directive)).map(
    // nginx creates only the last path component, so the temp dirs sit directly in `dir`.
    (directive) => `${directive} ${quoted(join(dir, directive.replace('_path', '')))};`,
  );
  if (!has('access_log')) http.push(`access_log ${quoted(join(dir, 'access.log'))};`);
  const body = text.replace(/(^|[\s;{}])(http\s*\{)/, (_match, before: string, open: string) =>
    [`${before}${open}`, ...http.map((line) => `  ${line}`), ''].join('\n'),
  );
  return `${[...main, body.trim()].join('\n')}\n`;
}

/**
 * SIGHUPs the master and waits until it runs a worker it did not run before (the config is in use), then
 * briefly for the old workers to finish, so a request sent next meets the new config.
 */
async function reloadNginx(server: LaunchedServer): Promise<void> {
  const master = server.pid;
  const before = new Set(await childPids(master));
  process.kill(master, 'SIGHUP');
  try {
    await waitFor(async () => (await childPids(master)).some((pid) => !before.has(pid)), {
      timeout: RELOAD_TIMEOUT_MS,
      interval: POLL_INTERVAL_MS,
      message: `nginx (pid ${master}) to start workers with the new config`,
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}; its output:\n${server.lastOutput}`, { cause: error });
  }
  // Old workers stop accepting once told to quit, but one busy with a long request may stay longer.
  await waitFor(async () => (await childPids(master)).every((pid) => !before.has(pid)), {
    timeout: OLD_WORKERS_GRACE_MS,
    interval: POLL_INTERVAL_MS,
  }).catch(() => undefined);
}

function run(path: string, args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(path, args, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      const output = `${String(stdout)}${String(stderr)}` || (error?.message ?? '');
      resolve({ code, output });
    });
  });
}

function numbered(text: string): string {
  return text
    .split('\n')
    .map((line, index) => `${String(index + 1).padStart(3)}  ${line}`)
    .join('\n');
}
