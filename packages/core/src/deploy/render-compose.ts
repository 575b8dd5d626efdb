/**
 * The `compose` target: `compose.yaml` with one service per process of the plan (built from the
 * exported Dockerfile, with its replicas, public ports, environment, a healthcheck on the readiness
 * endpoint and `depends_on` the processes it calls) and the backing servers the topology's sections
 * use, with volumes where they keep data. The topology the containers read is a Compose config.
 */
import type { BackingService } from './backing-services.js';
import {
  CONTAINER_TOPOLOGY,
  containerPath,
  containerTopologyText,
  containerVariables,
} from './container-topology.js';
import type { DeploymentPlan, ProbePlan, ProcessPlan } from './plan.js';
import { START_ENV } from './render-dockerfile.js';
import { toYaml, type YamlValue } from './yaml.js';

/** Options of {@link renderCompose}. */
export interface ComposeOptions {
  /** The build context (the app's folder) relative to the folder of `compose.yaml`, e.g. `..`. */
  readonly context: string;
  /** The Dockerfile relative to the build context, e.g. `deploy/Dockerfile`. */
  readonly dockerfile: string;
  /** The image name, e.g. `shop:0.1.0`. */
  readonly image: string;
}

type Mapping = { [key: string]: YamlValue | undefined };

/** Renders `compose.yaml`. */
export function renderCompose(plan: DeploymentPlan, options: ComposeOptions): Record<string, string> {
  const services: Mapping = {};
  const volumes: Mapping = {};
  const dependsOn = acyclicDependencies(plan);
  for (const process of plan.processes) {
    services[process.name] = processService(plan, process, options, dependsOn.get(process.name) ?? []);
    plan.dataDirs.forEach((_dir, index) => {
      volumes[dataVolume(process, index)] = {};
    });
  }
  for (const backing of plan.backingServices) {
    services[backing.name] = backingService(backing);
    if (backing.persistent) volumes[`${backing.name}-data`] = {};
  }
  // Compose interpolates `$` everywhere; `$$` leaves the topology's own `${VAR}` for Blueprint.
  const topology = containerTopologyText(plan, (name) => name).replaceAll('$', '$$$$');
  const document: Mapping = {
    name: plan.name,
    services,
    configs: { topology: { content: topology } },
    volumes: Object.keys(volumes).length === 0 ? undefined : volumes,
  };
  const secrets = containerVariables(plan).filter((variable) => variable.source !== 'backing');
  return {
    'compose.yaml': toYaml(document, {
      comment: [
        `App "${plan.app}" as ${plan.files.topology} places it: one service per process, plus the servers`,
        'its sections use. Written by `blueprint export compose`; edit it freely.',
        ...(secrets.length === 0
          ? []
          : [
              '',
              `Set ${secrets.map((variable) => variable.name).join(', ')} in the shell or in .env first.`,
            ]),
        `Run it: docker compose -f <this file> up --build`,
      ],
    }),
  };
}

function dataVolume(process: ProcessPlan, index: number): string {
  return `${process.name}-data${index === 0 ? '' : `-${index}`}`;
}

function processService(
  plan: DeploymentPlan,
  process: ProcessPlan,
  options: ComposeOptions,
  dependencies: readonly string[],
): Mapping {
  const environment: Mapping = {
    [START_ENV.topology]: CONTAINER_TOPOLOGY,
    [START_ENV.process]: process.name,
  };
  for (const variable of containerVariables(plan)) {
    environment[variable.name] =
      variable.backing !== undefined
        ? variable.backing.composeUrl
        : variable.optional
          ? `\${${variable.name}:-}`
          : `\${${variable.name}:?set ${variable.name} in the shell or in .env}`;
  }
  const dependsOn: Mapping = {};
  for (const backing of plan.backingServices) {
    dependsOn[backing.name] = {
      condition: backingHealthcheck(backing) ? 'service_healthy' : 'service_started',
    };
  }
  for (const name of dependencies) {
    const callee = plan.processes.find((candidate) => candidate.name === name);
    dependsOn[name] = { condition: callee?.probes === undefined ? 'service_started' : 'service_healthy' };
  }
  const publish = process.ports.public.map((port) =>
    process.replicas === 1 ? `${port.port}:${port.port}` : String(port.port),
  );
  return {
    image: options.image,
    build: { context: options.context, dockerfile: options.dockerfile },
    environment,
    configs: [{ source: 'topology', target: CONTAINER_TOPOLOGY }],
    ports: publish.length === 0 ? undefined : publish,
    deploy: { replicas: process.replicas },
    healthcheck: process.probes === undefined ? undefined : healthcheck(process.probes),
    depends_on: Object.keys(dependsOn).length === 0 ? undefined : dependsOn,
    stop_grace_period: `${Math.ceil(plan.drain.stopLimit / 1000)}s`,
    read_only: true,
    tmpfs: ['/tmp'],
    volumes:
      plan.dataDirs.length === 0
        ? undefined
        : plan.dataDirs.map((dir, index) => `${dataVolume(process, index)}:${containerPath(dir.path)}`),
    cap_drop: ['ALL'],
    security_opt: ['no-new-privileges:true'],
    restart: 'unless-stopped',
  };
}

/** A healthcheck on the readiness endpoint, with the Node.js of the image (it has no curl). */
export function healthcheck(probes: ProbePlan): Mapping {
  const url = `${probes.scheme.toLowerCase()}://127.0.0.1:${probes.port}${probes.ready}`;
  // A bare RPC probe over https answers with the process's own certificate, made for other names.
  const insecure = probes.scheme === 'HTTPS' ? "process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; " : '';
  const script = `${insecure}fetch('${url}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
  return {
    test: ['CMD', 'node', '-e', script],
    interval: '5s',
    timeout: '3s',
    retries: 3,
    start_period: '60s',
    start_interval: '1s',
  };
}

/**
 * What each process waits for: the processes it calls, leaving out a call that would close a cycle
 * (Compose refuses cyclic `depends_on`; readiness does not need the callee, it only orders startup).
 */
function acyclicDependencies(plan: DeploymentPlan): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  const reaches = (from: string, to: string, seen = new Set<string>()): boolean => {
    if (from === to) return true;
    if (seen.has(from)) return false;
    seen.add(from);
    return (edges.get(from) ?? []).some((next) => reaches(next, to, seen));
  };
  for (const process of plan.processes) {
    for (const callee of process.calls) {
      if (reaches(callee, process.name)) continue;
      edges.set(process.name, [...(edges.get(process.name) ?? []), callee]);
    }
  }
  return edges;
}

function backingHealthcheck(backing: BackingService): Mapping | undefined {
  const every = { interval: '2s', timeout: '2s', retries: 30 };
  switch (backing.kind) {
    case 'redis':
      return { test: ['CMD', 'redis-cli', 'ping'], ...every };
    case 'nats':
      return { test: ['CMD', 'wget', '-q', '--spider', 'http://127.0.0.1:8222/healthz'], ...every };
    case 'kafka':
      return {
        test: ['CMD', '/opt/kafka/bin/kafka-broker-api-versions.sh', '--bootstrap-server', 'localhost:9092'],
        ...every,
        start_period: '30s',
      };
    default:
      return undefined;
  }
}

function backingService(backing: BackingService): Mapping {
  const data = backing.persistent ? `${backing.name}-data` : undefined;
  const common = { healthcheck: backingHealthcheck(backing), restart: 'unless-stopped' };
  switch (backing.kind) {
    case 'redis':
      return {
        image: 'redis:7.4-alpine',
        // Events: AOF fsynced every second, never evicted. A cache-only server keeps nothing.
        command: backing.persistent
          ? [
              'redis-server',
              '--appendonly',
              'yes',
              '--appendfsync',
              'everysec',
              '--maxmemory-policy',
              'noeviction',
            ]
          : [
              'redis-server',
              '--save',
              '',
              '--appendonly',
              'no',
              '--maxmemory',
              '256mb',
              '--maxmemory-policy',
              'allkeys-lru',
            ],
        volumes: data === undefined ? undefined : [`${data}:/data`],
        ...common,
      };
    case 'nats':
      return {
        image: 'nats:2.10-alpine',
        command: ['--jetstream', '--store_dir', '/data', '--http_port', '8222'],
        volumes: data === undefined ? undefined : [`${data}:/data`],
        ...common,
      };
    case 'kafka':
      return {
        image: 'apache/kafka:3.9.0',
        environment: kafkaEnvironment(backing),
        ...common,
        volumes: data === undefined ? undefined : [`${data}:/var/lib/kafka/data`],
      };
    default:
      return { image: 'memcached:1.6-alpine', command: ['memcached', '-m', '256'], ...common };
  }
}

/** A single-node KRaft broker that other containers reach at its service name. */
function kafkaEnvironment(backing: BackingService): Mapping {
  return {
    KAFKA_NODE_ID: '1',
    KAFKA_PROCESS_ROLES: 'broker,controller',
    KAFKA_LISTENERS: `PLAINTEXT://:${backing.port},CONTROLLER://:9093`,
    KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${backing.name}:${backing.port}`,
    KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    KAFKA_CONTROLLER_QUORUM_VOTERS: `1@${backing.name}:9093`,
    KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
    KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
    KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
    KAFKA_LOG_DIRS: '/var/lib/kafka/data',
  };
}
