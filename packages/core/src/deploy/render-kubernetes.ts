/**
 * The `kubernetes` target: per process a Deployment, a Service, a PodDisruptionBudget and a
 * NetworkPolicy (and, on request, a HorizontalPodAutoscaler), in `<process>.yaml`; one ConfigMap with
 * the container topology in `topology.yaml`. Secrets are referenced, never written.
 */
import { createHash } from 'node:crypto';
import {
  CONTAINER_TOPOLOGY_DIR,
  containerPath,
  containerTopologyText,
  containerVariables,
} from './container-topology.js';
import { kubernetesNames, podSelector, processLabels } from './kubernetes-names.js';
import { networkPolicy } from './network-policy.js';
import type { DeploymentPlan, ProbePlan, ProcessPlan } from './plan.js';
import type { RenderedFiles } from './render-dockerfile.js';
import { START_ENV } from './render-dockerfile.js';
import { toYaml, toYamlDocuments, type YamlValue } from './yaml.js';

/** Options of {@link renderKubernetes}. */
export interface KubernetesOptions {
  /** The image every Deployment runs, e.g. `registry.example.com/shop:0.1.0`. */
  readonly image: string;
  /** Write a HorizontalPodAutoscaler per process (CPU 70 %, from the topology's replicas up to 3×). */
  readonly hpa?: boolean;
}

type Mapping = { [key: string]: YamlValue | undefined };

/** Seconds the `preStop` hook waits, so endpoints stop sending before the process is told to stop. */
export const PRE_STOP_SECONDS = 5;

/** The UID and GID of the `node` user of the official Node.js images. */
const NODE_USER = 1000;

/** `terminationGracePeriodSeconds`: the `preStop` wait plus the longest stop of `blueprint start`. */
export function gracePeriodSeconds(plan: DeploymentPlan): number {
  return PRE_STOP_SECONDS + Math.ceil(plan.drain.stopLimit / 1000);
}

/** Renders the manifests. */
export function renderKubernetes(plan: DeploymentPlan, options: KubernetesOptions): RenderedFiles {
  const names = kubernetesNames(plan);
  const topology = containerTopologyText(plan, names.process);
  const checksum = createHash('sha256').update(topology).digest('hex').slice(0, 16);
  const files: Record<string, string> = {
    'topology.yaml': toYaml(configMap(plan, topology), { comment: topologyComment(plan) }),
  };
  for (const process of plan.processes) {
    const objects: YamlValue[] = [
      deployment(plan, process, options, checksum),
      service(plan, process),
      disruptionBudget(plan, process),
      networkPolicy(plan, process),
    ];
    if (options.hpa === true) objects.push(autoscaler(plan, process));
    files[`${process.name}.yaml`] = toYamlDocuments(objects, {
      comment: [
        `Process "${process.name}" of app "${plan.app}" (${process.services.join(', ')}), from ${plan.files.topology}.`,
        'Written by `blueprint export kubernetes`; edit it freely.',
      ],
    });
  }
  return files;
}

function topologyComment(plan: DeploymentPlan): string[] {
  const names = kubernetesNames(plan);
  const variables = containerVariables(plan);
  const literal = (source: string) =>
    variables
      .filter((variable) => variable.source === source)
      .map((variable) => `--from-literal=${variable.name}=...`)
      .join(' ');
  const secrets = literal('secret');
  const backing = literal('backing');
  return [
    `App "${plan.app}" as ${plan.files.topology} places it. Written by \`blueprint export kubernetes\`;`,
    'edit it freely. Apply the folder: kubectl apply -f <this folder>',
    ...(secrets === '' && backing === '' ? [] : ['', 'Create first what the pods read:']),
    ...(secrets === '' ? [] : [`  kubectl create secret generic ${names.secrets} ${secrets}`]),
    ...(backing === '' ? [] : [`  kubectl create secret generic ${names.backing} ${backing}`]),
  ];
}

function configMap(plan: DeploymentPlan, topology: string): Mapping {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: kubernetesNames(plan).topology, labels: { 'app.kubernetes.io/name': plan.name } },
    data: { 'topology.json': topology },
  };
}

function environment(plan: DeploymentPlan, process: ProcessPlan): Mapping[] {
  const names = kubernetesNames(plan);
  const env: Mapping[] = [
    { name: START_ENV.topology, value: `${CONTAINER_TOPOLOGY_DIR}/topology.json` },
    { name: START_ENV.process, value: process.name },
  ];
  for (const variable of containerVariables(plan)) {
    const ref = { key: variable.name, optional: variable.optional ? true : undefined };
    const name = variable.source === 'secret' ? names.secrets : names.backing;
    env.push({ name: variable.name, valueFrom: { secretKeyRef: { name, ...ref } } });
  }
  return env;
}

function ports(process: ProcessPlan): Mapping[] {
  return [process.ports.rpc, ...process.ports.public, process.ports.admin].flatMap((port) =>
    port === undefined ? [] : [{ name: port.name, containerPort: port.port, protocol: 'TCP' }],
  );
}

function probes(probe: ProbePlan | undefined): Mapping {
  if (probe === undefined) return {};
  const get = (path: string) => ({ path, port: probe.listener, scheme: probe.scheme });
  return {
    startupProbe: { httpGet: get(probe.ready), periodSeconds: 2, failureThreshold: 60, timeoutSeconds: 2 },
    readinessProbe: { httpGet: get(probe.ready), periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2 },
    livenessProbe: { httpGet: get(probe.live), periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2 },
  };
}

function volumes(plan: DeploymentPlan): { mounts: Mapping[]; volumes: Mapping[] } {
  const data = plan.dataDirs.map((dir, index) => ({ name: `data-${index}`, path: containerPath(dir.path) }));
  return {
    mounts: [
      { name: 'topology', mountPath: CONTAINER_TOPOLOGY_DIR, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
      ...data.map((dir) => ({ name: dir.name, mountPath: dir.path })),
    ],
    volumes: [
      { name: 'topology', configMap: { name: kubernetesNames(plan).topology } },
      { name: 'tmp', emptyDir: {} },
      // Kept as long as the pod: use a PersistentVolumeClaim for data that must outlive it.
      ...data.map((dir) => ({ name: dir.name, emptyDir: {} })),
    ],
  };
}

function deployment(
  plan: DeploymentPlan,
  process: ProcessPlan,
  options: KubernetesOptions,
  checksum: string,
): Mapping {
  const storage = volumes(plan);
  const container: Mapping = {
    name: process.name,
    image: options.image,
    imagePullPolicy: 'IfNotPresent',
    env: environment(plan, process),
    ports: ports(process),
    ...probes(process.probes),
    lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SECONDS } } },
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: storage.mounts,
  };
  return processObject(plan, process, 'apps/v1', 'Deployment', {
    // With an autoscaler the replicas are its to set.
    replicas: options.hpa === true ? undefined : process.replicas,
    revisionHistoryLimit: 5,
    selector: { matchLabels: podSelector(plan, process.name) },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: {
      metadata: {
        labels: processLabels(plan, process.name),
        annotations: { 'blueprint.dev/topology-checksum': checksum },
      },
      spec: {
        automountServiceAccountToken: false,
        // Service links would set variables such as PRODUCTS_PORT=tcp://..., which the topology reads.
        enableServiceLinks: false,
        terminationGracePeriodSeconds: gracePeriodSeconds(plan),
        securityContext: {
          runAsNonRoot: true,
          runAsUser: NODE_USER,
          runAsGroup: NODE_USER,
          fsGroup: NODE_USER,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        containers: [container],
        volumes: storage.volumes,
      },
    },
  });
}

/** A manifest of one process's object: its API version and kind, the process's name and labels, and `spec`. */
function processObject(
  plan: DeploymentPlan,
  process: ProcessPlan,
  apiVersion: string,
  kind: string,
  spec: Mapping,
): Mapping {
  return {
    apiVersion,
    kind,
    metadata: {
      name: kubernetesNames(plan).process(process.name),
      labels: processLabels(plan, process.name),
    },
    spec,
  };
}

function service(plan: DeploymentPlan, process: ProcessPlan): Mapping {
  return processObject(plan, process, 'v1', 'Service', {
    type: 'ClusterIP',
    selector: podSelector(plan, process.name),
    ports: [process.ports.rpc, ...process.ports.public, process.ports.admin].flatMap((port) =>
      port === undefined
        ? []
        : [{ name: port.name, port: port.port, targetPort: port.name, protocol: 'TCP' }],
    ),
  });
}

function disruptionBudget(plan: DeploymentPlan, process: ProcessPlan): Mapping {
  return processObject(plan, process, 'policy/v1', 'PodDisruptionBudget', {
    // One pod at a time: a drain of a node never takes every replica at once, and a single replica
    // does not block it forever.
    maxUnavailable: 1,
    unhealthyPodEvictionPolicy: 'AlwaysAllow',
    selector: { matchLabels: podSelector(plan, process.name) },
  });
}

function autoscaler(plan: DeploymentPlan, process: ProcessPlan): Mapping {
  const name = kubernetesNames(plan).process(process.name);
  return processObject(plan, process, 'autoscaling/v2', 'HorizontalPodAutoscaler', {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
    minReplicas: process.replicas,
    maxReplicas: Math.max(3, process.replicas * 3),
    metrics: [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
      },
    ],
  });
}
