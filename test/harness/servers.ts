/**
 * Private `redis-server`, `nats-server`, `memcached` and PostgreSQL processes for integration and fault tests
 * (`proxies.ts` runs nginx and haproxy on the same machinery).
 *
 * Each server listens on a free loopback port and keeps its data in its own temp directory
 * (`os.tmpdir()/blueprint-*`), so a test can `kill()` it (SIGKILL by default) and `restart()` it on the
 * same port and directory: with `appendOnly` (Redis) or JetStream file storage (NATS) the data survives.
 *
 * Servers never outlive the process that started them: `stop()` ends one; a process `exit` handler and
 * SIGINT/SIGTERM/SIGHUP handlers SIGKILL the rest; and a tiny detached watchdog (`sh`) kills a server whose
 * parent died without running any handler (a SIGKILLed vitest worker, for example).
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, readdirSync, rmSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { getFreePort, LOOPBACK } from './ports.js';

export { getFreePort, LOOPBACK };

const READY_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 25;
const STOP_GRACE_MS = 5_000;
const EXIT_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_CHARS = 4_000;
const FALLBACK_BIN_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/bin'];

/** A running (or killed, restartable) server process owned by the test run. */
export interface ServerHandle {
  /**
   * `redis://127.0.0.1:<port>`, `nats://127.0.0.1:<port>`, `127.0.0.1:<port>` (memcached has no scheme) or
   * `http://127.0.0.1:<port>` (nginx, haproxy). Stable across `restart()`.
   */
  readonly url: string;
  /** The loopback address the server listens on (`127.0.0.1`). */
  readonly host: string;
  /** The TCP port; `restart()` reuses it. */
  readonly port: number;
  /** The data directory (Redis `--dir`, NATS `-sd`, the proxies' config); `restart()` reuses it. */
  readonly dir: string;
  /** Process id of the current server process; changes on `restart()`. */
  readonly pid: number;
  /** Whether the current process has not exited yet. */
  readonly running: boolean;
  /**
   * Sends `signal` (default `SIGKILL`, a crash) and resolves once the process has exited.
   * The port and directory stay reserved for `restart()`.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Ends the server for good (SIGTERM, SIGKILL after 5 s) and removes its temp directory. Idempotent. */
  stop(): Promise<void>;
  /**
   * Starts the server again on the same port and directory and waits until it answers.
   * A running process is stopped gracefully first; throws after `stop()`.
   */
  restart(): Promise<void>;
  /** Same as `stop()`, for `await using server = await startRedis()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@link startRedis}. */
export interface RedisServerOptions {
  /** Turns on the append-only file so acknowledged writes survive `kill()` + `restart()`. Default `false`. */
  appendOnly?: boolean;
  /** Redis `appendfsync` policy. `'always'` makes every write durable before its reply. Default `'everysec'`. */
  appendFsync?: 'always' | 'everysec' | 'no';
  /** Port to listen on. Default: a free port. */
  port?: number;
  /** Data directory, kept on `stop()` when given. Default: a fresh `blueprint-redis-*` temp dir. */
  dir?: string;
  /** Extra `redis-server` arguments, e.g. `['--maxmemory-policy', 'allkeys-lru']`. */
  args?: readonly string[];
}

/** Options of {@link startNats}. */
export interface NatsServerOptions {
  /** Port to listen on. Default: a free port. */
  port?: number;
  /** JetStream store directory, kept on `stop()` when given. Default: a fresh `blueprint-nats-*` temp dir. */
  storeDir?: string;
  /** Extra `nats-server` arguments. */
  args?: readonly string[];
}

/** Options of {@link startMemcached}. */
export interface MemcachedServerOptions {
  /** Port to listen on. Default: a free port. */
  port?: number;
  /** Memory for items in megabytes (`-m`). Default: memcached's, 64. */
  memoryMb?: number;
  /** Largest item memcached accepts (`-I`), e.g. `'1m'` or `'512k'`. Default: memcached's, `'1m'`. */
  maxItemSize?: string;
  /** Worker threads (`-t`). Default: memcached's, 4. */
  threads?: number;
  /** Extra `memcached` arguments, e.g. `['-o', 'no_lru_crawler']`. */
  args?: readonly string[];
}

/** A private memcached: a {@link ServerHandle} whose `url` is the plain `host:port` address. */
export interface MemcachedHandle extends ServerHandle {
  /** `127.0.0.1:<port>`, the form memcached clients take (also `url`). */
  readonly address: string;
}

/**
 * How to run one kind of server. Internal to the harness (`proxies.ts` uses it); not exported from the
 * harness index.
 */
export interface ServerSpec {
  readonly binary: string;
  readonly aptPackage: string;
  readonly brewFormula: string;
  /** URL scheme (`redis`) and temp dir prefix (`blueprint-redis-*`). */
  readonly scheme: string;
  args(port: number, dir: string): string[];
  /** Whether the server on `port` (data in `dir`) answers and is process `pid`, not a server of a parallel worker. */
  isReady(port: number, pid: number, dir: string): Promise<boolean>;
  /** The handle's `url`. Default `<scheme>://127.0.0.1:<port>`. */
  url?(port: number): string;
  /**
   * Runs before the first spawn on each port tried (not on `restart()`), e.g. to write and check a config
   * file for `port`. An error ends the start.
   */
  prepare?(port: number, dir: string): Promise<void>;
  /**
   * Runs the server in its own process group and kills the whole group, for servers that fork workers
   * which would outlive a SIGKILLed parent (nginx). Default `false`.
   */
  readonly processGroup?: boolean;
  /** Signal of a graceful stop (`stop()`, `restart()`), SIGKILL after 5 s. Default `SIGTERM`. */
  readonly stopSignal?: NodeJS.Signals;
  /** How long a start may take until `isReady`, in ms. Default `10000`; a JVM needs longer on a busy machine. */
  readonly readyTimeoutMs?: number;
}

/** A server started by {@link launch}: its handle plus what the harness itself needs. Internal. */
export interface LaunchedServer extends MemcachedHandle {
  /** Last lines the server printed (for error messages). */
  readonly lastOutput: string;
}

/**
 * Starts a private `redis-server` on a free loopback port and waits until it answers PING.
 *
 * @example
 * const redis = await startRedis({ appendOnly: true, appendFsync: 'always' });
 * await redis.kill(); // crash
 * await redis.restart(); // same port and data
 * await redis.stop();
 */
export function startRedis(options: RedisServerOptions = {}): Promise<ServerHandle> {
  const appendOnly = options.appendOnly ?? false;
  const fsync = options.appendFsync ?? 'everysec';
  const extra = options.args ?? [];
  const spec: ServerSpec = {
    binary: 'redis-server',
    aptPackage: 'redis-server',
    brewFormula: 'redis',
    scheme: 'redis',
    args: (port, dir) => [
      '--port',
      String(port),
      '--bind',
      LOOPBACK,
      '--save',
      '',
      '--appendonly',
      appendOnly ? 'yes' : 'no',
      '--appendfsync',
      fsync,
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--protected-mode',
      'no',
      ...extra,
    ],
    isReady: (port, pid) => probe(port, 'PING\r\nINFO server\r\n', (text) => isRedisProcess(text, pid)),
  };
  return launch(spec, options.port, options.dir);
}

/**
 * Starts a private `nats-server` with JetStream (file storage in a temp dir) on a free loopback port and
 * waits until it sends its `INFO` line with JetStream enabled.
 *
 * @example
 * const nats = await startNats();
 * const nc = await connect({ servers: nats.url });
 */
export function startNats(options: NatsServerOptions = {}): Promise<ServerHandle> {
  const extra = options.args ?? [];
  const name = `blueprint-${process.pid}-${++natsServers}`;
  const spec: ServerSpec = {
    binary: 'nats-server',
    aptPackage: 'nats-server',
    brewFormula: 'nats-server',
    scheme: 'nats',
    args: (port, dir) => ['-js', '-a', LOOPBACK, '-p', String(port), '-sd', dir, '-n', name, ...extra],
    isReady: (port) => probe(port, undefined, (text) => isNatsInfo(text, name)),
  };
  return launch(spec, options.port, options.storeDir);
}

/**
 * Starts a private `memcached` on a free loopback port and waits until it answers `version` (and `stats`
 * names its pid). It keeps nothing on disk: after `kill()` + `restart()` (same port) it is empty.
 * `stop()` and `restart()` end it with SIGKILL: memcached notices SIGTERM only on its once-a-second
 * clock tick, and it has nothing to flush.
 *
 * @example
 * const memcached = await startMemcached({ memoryMb: 16, maxItemSize: '2m' });
 * const socket = net.connect(memcached.port, memcached.host);
 * await memcached.kill(); // connections are refused now
 * await memcached.restart(); // same port, no items
 */
export function startMemcached(options: MemcachedServerOptions = {}): Promise<MemcachedHandle> {
  const extra = [
    ...(options.memoryMb === undefined ? [] : ['-m', String(options.memoryMb)]),
    ...(options.maxItemSize === undefined ? [] : ['-I', options.maxItemSize]),
    ...(options.threads === undefined ? [] : ['-t', String(options.threads)]),
    // memcached refuses to run as root unless told which user to be.
    ...(process.getuid?.() === 0 ? ['-u', 'root'] : []),
    ...(options.args ?? []),
  ];
  const spec: ServerSpec = {
    binary: 'memcached',
    aptPackage: 'memcached',
    brewFormula: 'memcached',
    scheme: 'memcached',
    stopSignal: 'SIGKILL',
    url: (port) => `${LOOPBACK}:${port}`,
    args: (port) => ['-l', LOOPBACK, '-p', String(port), '-U', '0', ...extra],
    isReady: (port, pid) => probe(port, 'version\r\nstats\r\n', (text) => isMemcachedProcess(text, pid)),
  };
  return launch(spec, options.port, undefined);
}

/** Options of {@link startPostgres}. */
export interface PostgresServerOptions {
  /** Port to listen on. Default: a free port. */
  port?: number;
  /** Directory of the cluster (made by `initdb` when empty), kept on `stop()` when given. Default: a fresh temp dir. */
  dir?: string;
  /** Extra `postgres` arguments, e.g. `['-c', 'log_statement=all']`. */
  args?: readonly string[];
}

/**
 * Starts a private PostgreSQL server (a cluster made by `initdb` in a temp dir, user `postgres`, trust
 * authentication on the loopback address) on a free port, and waits until its `postmaster.pid` says
 * `ready`. The binaries come from PATH or `/usr/lib/postgresql/<version>/bin` (Debian's `postgresql`
 * package). PostgreSQL refuses to run as root: as root the server and `initdb` run as the `postgres`
 * user (through `setpriv`, which execs, so the handle's pid is the server's). Killing it kills its
 * backends too; `restart()` recovers the cluster from its WAL.
 *
 * @example
 * const postgres = await startPostgres();
 * const pool = new pg.Pool({ connectionString: postgres.url }); // postgres://postgres@127.0.0.1:<port>/postgres
 */
export async function startPostgres(options: PostgresServerOptions = {}): Promise<ServerHandle> {
  const bin = postgresBinDir();
  const asUser = postgresUser();
  const run = (binary: string, args: readonly string[]) =>
    asUser === undefined
      ? { command: join(bin, binary), args: [...args] }
      : {
          command: findBinary({ binary: 'setpriv', aptPackage: 'util-linux', brewFormula: 'util-linux' }),
          args: [
            `--reuid=${asUser.uid}`,
            `--regid=${asUser.gid}`,
            '--clear-groups',
            join(bin, binary),
            ...args,
          ],
        };
  const server = run('postgres', []);
  const spec: ServerSpec = {
    binary: server.command,
    aptPackage: 'postgresql',
    brewFormula: 'postgresql',
    scheme: 'postgres',
    processGroup: true,
    stopSignal: 'SIGINT',
    readyTimeoutMs: 30_000,
    url: (port) => `postgres://postgres@${LOOPBACK}:${port}/postgres`,
    async prepare(_port, dir) {
      if (asUser !== undefined) await chown(dir, asUser.uid, asUser.gid);
      const data = join(dir, 'data');
      try {
        accessSync(join(data, 'PG_VERSION'));
        return;
      } catch {
        // A fresh directory: make the cluster.
      }
      const initdb = run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
      await new Promise<void>((resolve, reject) => {
        execFile(initdb.command, initdb.args, (error, _stdout, stderr) =>
          error === null ? resolve() : reject(new Error(`initdb failed: ${stderr || error.message}`)),
        );
      });
    },
    args: (port, dir) => [
      ...server.args,
      '-D',
      join(dir, 'data'),
      '-p',
      String(port),
      '-h',
      LOOPBACK,
      '-k',
      dir,
      '-c',
      'max_connections=40',
      '-c',
      'shared_buffers=16MB',
      ...(options.args ?? []),
    ],
    isReady: async (port, pid, dir) => {
      const lines = await readFile(join(dir, 'data', 'postmaster.pid'), 'utf8').then(
        (text) => text.split('\n'),
        () => [],
      );
      return Number(lines[0]) === pid && lines[7]?.trim() === 'ready' && (await acceptsConnections(port));
    },
  };
  return launch(spec, options.port, options.dir);
}

/** Where the PostgreSQL binaries are: PATH, else the newest `/usr/lib/postgresql/<version>/bin`. */
function postgresBinDir(): string {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  try {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((version) => join('/usr/lib/postgresql', version, 'bin')));
  } catch {
    // No Debian layout.
  }
  for (const dir of dirs) {
    try {
      accessSync(join(dir, 'initdb'), constants.X_OK);
      accessSync(join(dir, 'postgres'), constants.X_OK);
      return dir;
    } catch {
      // Not here.
    }
  }
  throw new Error(
    'initdb and postgres were not found on PATH or in /usr/lib/postgresql/<version>/bin. ' +
      'Integration tests need a real server: install it with `apt-get install postgresql` ' +
      '(`brew install postgresql` on macOS).',
  );
}

/** As root, the `postgres` user's ids (the server refuses to run as root); otherwise nothing. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      'PostgreSQL refuses to run as root and there is no "postgres" user: install `apt-get install postgresql` (it makes one) or run the tests as another user',
    );
  }
}

/** SIGKILLs every server still running in this process and removes their temp dirs, synchronously. */
export function killAllServersSync(): void {
  for (const server of live) server.killSync();
}

/** Stops every server started by this process (see {@link ServerHandle.stop}). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...live].map((server) => server.stop()));
}

const live = new Set<ManagedServer>();
const binaries = new Map<string, string>();
let handlersInstalled = false;
let natsServers = 0;

class ManagedServer implements LaunchedServer {
  readonly host = LOOPBACK;
  readonly url: string;
  readonly address: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private watchdogPid: number | undefined;
  private output = '';
  private stopped = false;

  constructor(
    private readonly spec: ServerSpec,
    private readonly path: string,
    readonly port: number,
    readonly dir: string,
    private readonly ownsDir: boolean,
  ) {
    this.url = spec.url?.(port) ?? `${spec.scheme}://${LOOPBACK}:${port}`;
    this.address = `${LOOPBACK}:${port}`;
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  get running(): boolean {
    const child = this.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.signal(signal, true);
    await this.waitForExit(EXIT_TIMEOUT_MS);
    this.sweepGroup();
    this.killWatchdog();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.terminate();
    } finally {
      live.delete(this);
      if (this.ownsDir) await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
    }
  }

  async restart(): Promise<void> {
    if (this.stopped)
      throw new Error(`${this.spec.binary} on port ${this.port} was stopped; start a new one`);
    await this.terminate();
    await this.spawnAndWait();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** Spawns the process and resolves once it answers; kills it and throws if it does not. */
  async spawnAndWait(): Promise<void> {
    installExitHandlers();
    this.output = '';
    const child = spawn(this.path, this.spec.args(this.port, this.dir), {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: this.spec.processGroup === true,
    });
    this.child = child;
    live.add(this);
    let spawnError: Error | undefined;
    this.exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', (error) => {
        spawnError = error;
        resolve();
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => {
        this.output = (this.output + text).slice(-OUTPUT_TAIL_CHARS);
      });
      (stream as Socket | null)?.unref();
    }
    child.unref();
    this.startWatchdog();

    const readyTimeoutMs = this.spec.readyTimeoutMs ?? READY_TIMEOUT_MS;
    const deadline = Date.now() + readyTimeoutMs;
    while (Date.now() < deadline) {
      if (!this.running || spawnError !== undefined) {
        await this.waitForExit(1_000).catch(() => undefined);
        const reason = spawnError?.message ?? `exit code ${child.exitCode ?? child.signalCode}`;
        throw new Error(
          `${this.spec.binary} on port ${this.port} exited before answering (${reason}):\n${this.output}`,
          { cause: spawnError },
        );
      }
      if (await this.spec.isReady(this.port, this.pid, this.dir)) return;
      await sleep(POLL_INTERVAL_MS);
    }
    this.abandon();
    throw new Error(
      `${this.spec.binary} on port ${this.port} did not answer within ${readyTimeoutMs} ms:\n${this.output}`,
    );
  }

  /** Last lines the server printed (for error messages). */
  get lastOutput(): string {
    return this.output;
  }

  /** SIGKILLs the process and its watchdog without waiting; leaves the directory alone. */
  abandon(): void {
    if (this.running) this.signal('SIGKILL', true);
    this.killWatchdog();
  }

  /** {@link abandon}, then removes the temp directory: for exit handlers, where nothing can be awaited. */
  killSync(): void {
    this.abandon();
    if (this.stopped || !this.ownsDir) return;
    try {
      rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Best effort at exit: the process may still be writing its last file.
    }
  }

  private async terminate(): Promise<void> {
    if (this.running) {
      // The stop signal goes to the main process only: an nginx master shuts its workers down itself.
      this.signal(this.spec.stopSignal ?? 'SIGTERM', false);
      try {
        await this.waitForExit(STOP_GRACE_MS);
      } catch {
        this.signal('SIGKILL', true);
        await this.waitForExit(EXIT_TIMEOUT_MS);
      }
      this.sweepGroup();
    }
    this.killWatchdog();
  }

  /** Sends `signal` to the process, or to its whole process group when `group` and the spec asks for one. */
  private signal(signal: NodeJS.Signals, group: boolean): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    if (group && this.spec.processGroup === true) trySignal(-pid, signal);
    else this.child?.kill(signal);
  }

  /** SIGKILLs what is left of the process group (workers of a killed master) once the leader has exited. */
  private sweepGroup(): void {
    const pid = this.child?.pid;
    if (this.spec.processGroup === true && pid !== undefined) trySignal(-pid, 'SIGKILL');
  }

  private waitForExit(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      // A referenced timer keeps the event loop alive while the unref'd child exits.
      const timer = setTimeout(
        () => reject(new Error(`${this.spec.binary} (pid ${this.pid}) did not exit within ${timeoutMs} ms`)),
        timeoutMs,
      );
      void this.exited.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Kills the server if this process dies without running its exit handlers (e.g. SIGKILL). */
  private startWatchdog(): void {
    const serverPid = this.child?.pid;
    if (serverPid === undefined) return;
    // "$4" = group: watch and kill the server's whole process group ("-pid"), as dash's kill spells it.
    const script = [
      'target="$2"; [ "$4" = group ] && target="-$2"',
      'while kill -0 "$1" 2>/dev/null; do kill -0 "$target" 2>/dev/null || exit 0; sleep 1; done',
      'kill -9 "$target" 2>/dev/null',
      'if [ -n "$3" ]; then sleep 0.2; rm -rf "$3"; fi',
    ].join('\n');
    const args = ['-c', script, 'blueprint-watchdog', String(process.pid), String(serverPid)];
    args.push(this.ownsDir ? this.dir : '', this.spec.processGroup === true ? 'group' : '');
    const watchdog = spawn('sh', args, { detached: true, stdio: 'ignore' });
    watchdog.on('error', () => undefined);
    watchdog.unref();
    this.watchdogPid = watchdog.pid;
  }

  private killWatchdog(): void {
    // Negative pid: the detached watchdog leads its own process group, which includes its `sleep`.
    if (this.watchdogPid !== undefined) trySignal(-this.watchdogPid, 'SIGKILL');
    this.watchdogPid = undefined;
  }
}

/**
 * Starts the server `spec` describes on `port` (default: a free one, retried when taken) with data in `dir`
 * (default: a temp dir removed on `stop()`). Internal to the harness: use `startRedis()` and friends.
 */
export async function launch(
  spec: ServerSpec,
  port: number | undefined,
  dir: string | undefined,
): Promise<LaunchedServer> {
  const path = findBinary(spec);
  const ownsDir = dir === undefined;
  const dataDir = dir ?? (await mkdtemp(join(tmpdir(), `blueprint-${spec.scheme}-`)));
  // A free port can be taken between getFreePort() and the server's bind: retry with another one.
  const attempts = port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const server = new ManagedServer(spec, path, port ?? (await getFreePort()), dataDir, ownsDir);
    try {
      await spec.prepare?.(server.port, dataDir);
      await server.spawnAndWait();
      return server;
    } catch (error) {
      server.abandon();
      live.delete(server);
      const portTaken = /address already in use/i.test(server.lastOutput);
      if (attempt < attempts && portTaken) continue;
      if (ownsDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
      throw error;
    }
  }
}

/**
 * The absolute path of `spec.binary` from PATH or the sbin/bin fallbacks; throws an error that says which
 * package to install. Internal to the harness.
 */
export function findBinary(spec: Pick<ServerSpec, 'binary' | 'aptPackage' | 'brewFormula'>): string {
  const cached = binaries.get(spec.binary);
  if (cached !== undefined) return cached;
  if (isAbsolute(spec.binary)) return spec.binary;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...FALLBACK_BIN_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, spec.binary);
    try {
      accessSync(candidate, constants.X_OK);
      binaries.set(spec.binary, candidate);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  throw new Error(
    `${spec.binary} was not found on PATH or in ${FALLBACK_BIN_DIRS.join(', ')}. ` +
      `Integration tests need a real server: install it with \`apt-get install ${spec.aptPackage}\` ` +
      `(\`brew install ${spec.brewFormula}\` on macOS).`,
  );
}

/**
 * Connects to `port`, optionally writes `send`, and feeds the received text to `accept` until it returns
 * a boolean. Any error, close or a 500 ms silence counts as "not ready".
 */
function probe(
  port: number,
  send: string | undefined,
  accept: (text: string) => boolean | undefined,
): Promise<boolean> {
  return new Promise((resolve) => {
    let received = '';
    const socket = tcpConnect({ host: LOOPBACK, port });
    const finish = (ready: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ready);
    };
    const timer = setTimeout(() => finish(false), 500);
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      if (send !== undefined) socket.write(send);
    });
    socket.on('data', (text: string) => {
      received += text;
      const verdict = accept(received);
      if (verdict !== undefined) finish(verdict);
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

/**
 * Reads the replies to `PING` + `INFO server`: ready when the server answers `+PONG` and its `process_id` is
 * `pid`. `-LOADING` (replaying the AOF) is not ready; `-NOAUTH` (extra args set a password) is.
 */
function isRedisProcess(text: string, pid: number): boolean | undefined {
  if (text.startsWith('-')) return text.includes('\r\n') ? text.startsWith('-NOAUTH') : undefined;
  const match = /process_id:(\d+)\r\n/.exec(text);
  if (match === null) return undefined;
  return text.startsWith('+PONG\r\n') && Number(match[1]) === pid;
}

/**
 * Reads the replies to `version` + `stats`: ready when the first line is `VERSION ...` and `STAT pid` is
 * `pid`. Anything else first (`ERROR`, `CLIENT_ERROR`, a SASL-only server) is not ready.
 */
function isMemcachedProcess(text: string, pid: number): boolean | undefined {
  if (!text.includes('\r\n')) return undefined;
  if (!text.startsWith('VERSION ')) return false;
  if (!text.includes('END\r\n')) return undefined;
  const match = /STAT pid (\d+)\r\n/.exec(text);
  return match !== null && Number(match[1]) === pid;
}

/** Ready when the first line is an `INFO` of the server named `name` with JetStream enabled. */
function isNatsInfo(text: string, name: string): boolean | undefined {
  const end = text.indexOf('\r\n');
  if (end < 0) return undefined;
  const line = text.slice(0, end);
  if (!line.startsWith('INFO ')) return false;
  try {
    const info = JSON.parse(line.slice(5)) as { jetstream?: unknown; server_name?: unknown };
    return info.jetstream === true && info.server_name === name;
  } catch {
    return false;
  }
}

/**
 * Whether a TCP connection to `port` on the loopback address is accepted within 500 ms. Internal to the
 * harness, for servers without a protocol of their own to probe (proxies).
 */
export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: LOOPBACK, port });
    const finish = (accepted: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(accepted);
    };
    const timer = setTimeout(() => finish(false), 500);
    socket.on('connect', () => finish(true));
    socket.on('error', () => finish(false));
  });
}

/**
 * Process ids of the children of `pid` (Linux `/proc`, else `pgrep -P`), e.g. an nginx master's workers.
 * Internal to the harness.
 */
export async function childPids(pid: number): Promise<number[]> {
  const parse = (text: string) => text.split(/\s+/).filter(Boolean).map(Number);
  try {
    return parse(await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8'));
  } catch {
    return new Promise((resolve) => {
      execFile('pgrep', ['-P', String(pid)], (_error, stdout) => resolve(parse(String(stdout))));
    });
  }
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllServersSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAllServersSync();
      // Re-raise only when nobody else handles the signal, so the default (terminate) still happens.
      if (process.listenerCount(signal) === 1) {
        process.off(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

function trySignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
