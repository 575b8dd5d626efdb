/**
 * A private Apache Kafka broker (KRaft: one process that is broker and controller, no ZooKeeper) for
 * integration and fault tests, on the machinery of `servers.ts`: free loopback ports, a temp storage dir,
 * `kill()` / `restart()` on the same port and dir, exit handlers and a detached watchdog.
 *
 * The broker's jars come from Maven Central (`kafka/pom.xml`), fetched once with `mvn` into a cache folder
 * outside the repository: `$BLUEPRINT_KAFKA_LIBS`, else `$XDG_CACHE_HOME/blueprint/kafka-<version>-<pom hash>`
 * (`~/.cache/...`). The first fetch also records a class-data-sharing archive of a broker run, which
 * halves the JVM's start; it is only an optimisation and is skipped where it cannot be made.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kafkaMetadata } from './kafka/wire.js';
import {
  findBinary,
  getFreePort,
  type LaunchedServer,
  LOOPBACK,
  launch,
  type ServerHandle,
  type ServerSpec,
} from './servers.js';

/** The Kafka release the harness runs (the `kafka.version` of `kafka/pom.xml`). */
export const KAFKA_VERSION = '4.4.0';

const NODE_ID = 1;
const READY_TIMEOUT_MS = 60_000;
const FORMAT_TIMEOUT_MS = 60_000;
const FETCH_TIMEOUT_MS = 10 * 60_000;
const LOCK_TIMEOUT_MS = 15 * 60_000;
const LOCK_POLL_MS = 200;
const PROBE_TIMEOUT_MS = 1_000;
const POM = fileURLToPath(new URL('./kafka/pom.xml', import.meta.url));
const LOG_CONFIG = fileURLToPath(new URL('./kafka/log4j2.properties', import.meta.url));
const BROKER_JAR = `kafka_2.13-${KAFKA_VERSION}.jar`;

/**
 * JVM flags of every broker: a small heap, the serial collector and C1 only (a test broker lives for
 * seconds, so a fast start beats peak throughput), no `hsperfdata` files left behind by SIGKILL.
 */
const JVM_OPTIONS = [
  '-Xms64m',
  '-Xmx512m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:-UsePerfData',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djava.awt.headless=true',
  `-Dlog4j2.configurationFile=${LOG_CONFIG}`,
];

/** Options of {@link startKafka}. */
export interface KafkaServerOptions {
  /** Port of the client listener. Default: a free port. */
  port?: number;
  /** Port of the KRaft controller listener; `restart()` reuses it. Default: a free port. */
  controllerPort?: number;
  /**
   * Storage directory (formatted on first use, reused as it is afterwards), kept on `stop()` when given.
   * Default: a fresh `blueprint-kafka-*` temp dir.
   */
  dir?: string;
  /** `num.partitions`: partitions of an auto-created topic. Default `1`. */
  partitions?: number;
  /** `auto.create.topics.enable`: a produce or metadata request for a missing topic creates it. Default `true`. */
  autoCreateTopics?: boolean;
  /**
   * More `server.properties` entries; they override the harness's, e.g.
   * `{ 'log.retention.ms': '60000', 'group.min.session.timeout.ms': '500' }`.
   */
  properties?: Readonly<Record<string, string>>;
  /** More JVM flags, after the harness's (so they win), e.g. `['-Xmx1g', '-XX:TieredStopAtLevel=4']`. */
  jvmOptions?: readonly string[];
}

/** A private Kafka broker: a {@link ServerHandle} whose `url` is the bootstrap address `127.0.0.1:<port>`. */
export interface KafkaServerHandle extends ServerHandle {
  /** `127.0.0.1:<port>`, the bootstrap server clients take (also `url`). */
  readonly bootstrap: string;
  /** Port of the KRaft controller listener. Stable across `restart()`. */
  readonly controllerPort: number;
  /** The cluster id the storage dir was formatted with. */
  readonly clusterId: string;
}

/** Where the broker's jars are (see {@link ensureKafkaLibs}). */
export interface KafkaLibs {
  /** Folder of the jars; the broker runs with `-cp '<dir>/*'`. */
  readonly dir: string;
  /** Class-data-sharing archive for this JVM, when one could be made. */
  readonly archive: string | undefined;
}

/**
 * Starts a private Kafka broker+controller on free loopback ports and waits until it answers a Metadata
 * request listing itself, with a leader for every partition (also after a `restart()`). Fetches the
 * broker's jars first when they are not cached yet (see {@link ensureKafkaLibs}).
 *
 * @example
 * await using kafka = await startKafka({ partitions: 3 });
 * const producer = new Kafka({ brokers: [kafka.bootstrap] }).producer();
 * await kafka.kill(); // crash: committed records stay in kafka.dir
 * await kafka.restart(); // same ports, same data
 */
export async function startKafka(options: KafkaServerOptions = {}): Promise<KafkaServerHandle> {
  const java = findJava();
  const libs = await ensureKafkaLibs();
  const broker = await launchBroker(java, libs, options, []);
  return broker;
}

/**
 * Makes sure the broker's jars are in the cache, fetching them with `mvn` when missing, and that the
 * class-data-sharing archive for the current `java` exists (made once by starting and stopping a broker).
 * Safe to call from parallel test workers: a lock file keeps them from doing the work twice, and the jars
 * land in a temp folder that is renamed into place, so no one ever sees half a cache.
 *
 * @example
 * const { dir } = await ensureKafkaLibs(); // `node --import tsx test/harness/kafka/fetch.ts` in CI
 */
export function ensureKafkaLibs(): Promise<KafkaLibs> {
  libsPromise ??= prepareLibs().catch((error: unknown) => {
    libsPromise = undefined;
    throw error;
  });
  return libsPromise;
}

let libsPromise: Promise<KafkaLibs> | undefined;

/** The cache folder of the jars: `$BLUEPRINT_KAFKA_LIBS`, else one per Kafka version and pom under the XDG cache. */
function libsDir(): string {
  const override = process.env.BLUEPRINT_KAFKA_LIBS;
  if (override) return override;
  const pomHash = createHash('sha256').update(readFileSync(POM)).digest('hex').slice(0, 8);
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cacheHome, 'blueprint', `kafka-${KAFKA_VERSION}-${pomHash}`);
}

async function prepareLibs(): Promise<KafkaLibs> {
  const java = findJava();
  const dir = libsDir();
  const archive = join(dir, `broker-${jvmKey(java)}.jsa`);
  const failed = `${archive}.failed`;
  const complete = () => existsSync(join(dir, BROKER_JAR));
  const settled = () => complete() && (existsSync(archive) || existsSync(failed));
  if (!settled()) {
    await mkdir(dirname(dir), { recursive: true });
    await withLock(`${dir}.lock`, async () => {
      if (!complete()) await fetchJars(dir);
      if (!existsSync(archive) && !existsSync(failed)) await recordArchive(java, dir, archive);
    });
  }
  return { dir, archive: existsSync(archive) ? archive : undefined };
}

/**
 * Runs `mvn dependency:copy-dependencies` into a temp folder next to `dir`, then renames it into place.
 * A `dir` that holds other files is left alone: it may be someone's folder named by BLUEPRINT_KAFKA_LIBS.
 */
async function fetchJars(dir: string): Promise<void> {
  const existing = await readdir(dir).catch(() => []);
  if (existing.length > 0)
    throw new Error(
      `${dir} holds files but not ${BROKER_JAR}; point BLUEPRINT_KAFKA_LIBS at the jars of ` +
        `Kafka ${KAFKA_VERSION}, or at a folder that does not exist yet for the harness to fill`,
    );
  const mvn = findMaven(dir);
  const temp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const args = ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${temp}`];
  try {
    await run(mvn, args, FETCH_TIMEOUT_MS, `fetching the Kafka ${KAFKA_VERSION} jars from Maven Central`);
    if (!existsSync(join(temp, BROKER_JAR)))
      throw new Error(`mvn ran but ${BROKER_JAR} is not in ${temp}; check ${POM}`);
    await rm(dir, { recursive: true, force: true }); // an empty folder, checked above
    await rename(temp, dir);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/**
 * Starts a broker with `-XX:ArchiveClassesAtExit` and stops it gracefully, which writes a dynamic CDS
 * archive of the classes a broker start loads. A failure only costs speed: it is written to
 * `<archive>.failed` (delete that file to try again) and brokers start without an archive; a broker that
 * cannot start at all fails the real start with its output.
 */
async function recordArchive(java: string, dir: string, archive: string): Promise<void> {
  const temp = `${archive}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const libs = { dir, archive: undefined };
    const broker = await launchBroker(java, libs, {}, [`-XX:ArchiveClassesAtExit=${temp}`]);
    try {
      await broker.kill('SIGTERM');
    } finally {
      await broker.stop();
    }
    if ((await stat(temp)).size === 0) throw new Error(`the JVM wrote an empty ${temp}`);
    await rename(temp, archive);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await writeFile(`${archive}.failed`, `${reason}\n`).catch(() => undefined);
  } finally {
    await rm(temp, { force: true });
  }
}

async function launchBroker(
  java: string,
  libs: KafkaLibs,
  options: KafkaServerOptions,
  extraJvmOptions: readonly string[],
): Promise<KafkaServerHandle> {
  // Per listener port tried: the controller port, and the cluster id once the dir is formatted.
  const controllerPorts = new Map<number, number>();
  let clusterId = '';
  const jvm = [
    ...JVM_OPTIONS,
    ...(libs.archive === undefined ? [] : [`-XX:SharedArchiveFile=${libs.archive}`]),
    ...(options.jvmOptions ?? []),
  ];
  const classpath = ['-cp', join(libs.dir, '*')];
  const spec: ServerSpec = {
    binary: 'java',
    aptPackage: JAVA_APT_PACKAGE,
    brewFormula: JAVA_BREW_FORMULA,
    scheme: 'kafka',
    url: (port) => `${LOOPBACK}:${port}`,
    readyTimeoutMs: READY_TIMEOUT_MS,
    args: (_port, dir) => [
      ...jvm,
      ...extraJvmOptions,
      ...classpath,
      'kafka.Kafka',
      join(dir, 'server.properties'),
    ],
    prepare: async (port, dir) => {
      let controllerPort = options.controllerPort;
      while (controllerPort === undefined || controllerPort === port) controllerPort = await getFreePort();
      controllerPorts.set(port, controllerPort);
      const config = join(dir, 'server.properties');
      await writeFile(config, serverProperties(port, controllerPort, dir, options));
      clusterId = await formatStorage(java, jvm, classpath, dir, config);
    },
    isReady: (port) => isBrokerReady(port, clusterId),
  };
  const server = await launch(spec, options.port, options.dir);
  return new KafkaBroker(server, controllerPorts.get(server.port) ?? 0, clusterId);
}

/** The `server.properties` of a single-node broker+controller, tuned for tests on a small machine. */
function serverProperties(
  port: number,
  controllerPort: number,
  dir: string,
  options: KafkaServerOptions,
): string {
  const properties: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': String(NODE_ID),
    'controller.quorum.voters': `${NODE_ID}@${LOOPBACK}:${controllerPort}`,
    listeners: `PLAINTEXT://${LOOPBACK}:${port},CONTROLLER://${LOOPBACK}:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${LOOPBACK}:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': join(dir, 'data'),
    'num.partitions': String(options.partitions ?? 1),
    'auto.create.topics.enable': String(options.autoCreateTopics ?? true),
    'default.replication.factor': '1',
    'min.insync.replicas': '1',
    // Internal topics: one replica (there is one broker) and one partition (fast to create).
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'share.coordinator.state.topic.num.partitions': '1',
    // A group forms at once, and tests may use short session timeouts to see a dead member go fast.
    'group.initial.rebalance.delay.ms': '0',
    'group.min.session.timeout.ms': '1000',
    // After a SIGKILL the controller refuses the restarted broker's registration until the old session
    // expires (default 9 s, so a restart took 11 s); 2 s still rides out a stalled JVM on a busy machine.
    'broker.session.timeout.ms': '2000',
    'broker.heartbeat.interval.ms': '500',
    // Two cores: fewer threads than Kafka's defaults (3 network, 8 I/O).
    'num.network.threads': '2',
    'num.io.threads': '4',
    'num.recovery.threads.per.data.dir': '1',
    ...options.properties,
  };
  const lines = Object.entries(properties).map(([key, value]) => `${key}=${value}`);
  return `# Written by the test harness (test/harness/kafka.ts) for this broker only.\n${lines.join('\n')}\n`;
}

/**
 * Formats `dir` for KRaft with a fresh cluster id (`kafka.tools.StorageTool format`), or, when it was
 * formatted before (a given `dir` reused), returns the cluster id it has.
 */
async function formatStorage(
  java: string,
  jvm: readonly string[],
  classpath: readonly string[],
  dir: string,
  config: string,
): Promise<string> {
  const meta = join(dir, 'data', 'meta.properties');
  if (existsSync(meta)) {
    const match = /^cluster\.id=(.+)$/m.exec(await readFile(meta, 'utf8'));
    if (match?.[1] !== undefined) return match[1].trim();
    throw new Error(`${meta} names no cluster.id; remove ${dir} or pass another dir`);
  }
  const clusterId = newClusterId();
  const args = [...jvm, ...classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', config];
  await run(java, args, FORMAT_TIMEOUT_MS, `formatting the Kafka storage dir ${dir}`);
  return clusterId;
}

/** A random Kafka cluster id: 16 bytes, URL-safe base64 without padding, not starting with `-`. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * Ready when a Metadata request to `port` names `clusterId` (our broker, not one of a parallel worker that
 * took the port), lists this node, and every partition has a leader (after a crash, logs are recovered).
 */
async function isBrokerReady(port: number, clusterId: string): Promise<boolean> {
  try {
    const metadata = await kafkaMetadata({ host: LOOPBACK, port }, { timeoutMs: PROBE_TIMEOUT_MS });
    return (
      metadata.clusterId === clusterId &&
      metadata.brokers.some((broker) => broker.nodeId === NODE_ID && broker.port === port) &&
      metadata.topics.every((topic) => topic.partitions.every((partition) => partition.leader >= 0))
    );
  } catch {
    return false;
  }
}

/** The {@link KafkaServerHandle} over a launched `java` process. */
class KafkaBroker implements KafkaServerHandle {
  constructor(
    private readonly server: LaunchedServer,
    readonly controllerPort: number,
    readonly clusterId: string,
  ) {}

  get url(): string {
    return this.server.url;
  }

  get bootstrap(): string {
    return this.server.address;
  }

  get host(): string {
    return this.server.host;
  }

  get port(): number {
    return this.server.port;
  }

  get dir(): string {
    return this.server.dir;
  }

  get pid(): number {
    return this.server.pid;
  }

  get running(): boolean {
    return this.server.running;
  }

  kill(signal?: NodeJS.Signals): Promise<void> {
    return this.server.kill(signal);
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  restart(): Promise<void> {
    return this.server.restart();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.server.stop();
  }
}

const JAVA_APT_PACKAGE = 'openjdk-17-jre-headless';
const JAVA_BREW_FORMULA = 'openjdk@17';

function findJava(): string {
  return findBinary({ binary: 'java', aptPackage: JAVA_APT_PACKAGE, brewFormula: JAVA_BREW_FORMULA });
}

function findMaven(dir: string): string {
  try {
    return findBinary({ binary: 'mvn', aptPackage: 'maven', brewFormula: 'maven' });
  } catch (error) {
    throw new Error(
      `The Kafka broker's jars are not in ${dir} yet, and mvn, which fetches them from Maven Central, ` +
        'was not found: install it with `apt-get install maven` (`brew install maven` on macOS), or set ' +
        'BLUEPRINT_KAFKA_LIBS to a folder holding the jars of test/harness/kafka/pom.xml.',
      { cause: error },
    );
  }
}

/** A key of the `java` binary (path, size, mtime): a CDS archive only fits the JVM that wrote it. */
function jvmKey(java: string): string {
  const real = realpathSync(java);
  const { size, mtimeMs } = statSync(real);
  return createHash('sha256').update(`${real}:${size}:${mtimeMs}`).digest('hex').slice(0, 12);
}

/** Runs `command` to completion; throws with its output when it fails or takes longer than `timeoutMs`. */
function run(command: string, args: readonly string[], timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) return resolve();
      const output = `${stdout}${stderr}`.trim().slice(-4_000);
      const reason = error.killed ? `timed out after ${timeoutMs} ms` : error.message.split('\n')[0];
      reject(new Error(`${what} failed (${reason}):\n${output}`, { cause: error }));
    });
  });
}

/**
 * Runs `fn` holding the lock file `path` (created exclusively, holding our pid). A lock whose process is
 * gone is taken over. The lock only saves duplicate work: what it guards is renamed into place atomically.
 */
async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const token = `${process.pid} ${randomBytes(4).toString('hex')}`;
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(token);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readFile(path, 'utf8').catch(() => '');
    const pid = Number(holder.split(' ')[0]);
    if (holder !== '' && !isAlive(pid)) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`${path} is still held by "${holder}" after ${LOCK_TIMEOUT_MS} ms; remove it if stale`);
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
  try {
    return await fn();
  } finally {
    if ((await readFile(path, 'utf8').catch(() => '')) === token) await rm(path, { force: true });
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
