/**
 * NetworkPolicies from the contract graph: a process's pods admit, on its RPC port, only the pods of
 * the processes whose services call its services (the graph `blueprint graph` draws, narrowed by the
 * topology's `callers`). Besides that they admit:
 *
 * - the app's public ports, from anywhere (an ingress controller or a load balancer sends them the
 *   traffic of users);
 * - the admin port, from pods labelled `blueprint.dev/scrape: "true"` in any namespace (label your
 *   Prometheus pods so).
 *
 * Probes need no rule: the kubelet probes from the node, and NetworkPolicy implementations admit a
 * node's traffic to its own pods. Egress is left open: DNS, the brokers and whatever the app calls
 * are not in the graph.
 */
import { kubernetesNames, podSelector } from './kubernetes-names.js';
import type { DeploymentPlan, ProcessPlan } from './plan.js';
import type { YamlValue } from './yaml.js';

/** The label that lets a pod scrape the admin ports (`/metrics`). */
export const SCRAPE_LABEL = 'blueprint.dev/scrape';

type Mapping = { [key: string]: YamlValue | undefined };

/** The NetworkPolicy of a process. */
export function networkPolicy(plan: DeploymentPlan, process: ProcessPlan): Mapping {
  const ingress: Mapping[] = [];
  const { rpc, admin } = process.ports;
  if (rpc !== undefined && process.callers.length > 0) {
    ingress.push({
      from: process.callers.map((caller) => ({ podSelector: { matchLabels: podSelector(plan, caller) } })),
      ports: [{ protocol: 'TCP', port: rpc.port }],
    });
  }
  if (process.ports.public.length > 0) {
    ingress.push({ ports: process.ports.public.map((port) => ({ protocol: 'TCP', port: port.port })) });
  }
  if (admin !== undefined) {
    ingress.push({
      from: [{ namespaceSelector: {}, podSelector: { matchLabels: { [SCRAPE_LABEL]: 'true' } } }],
      ports: [{ protocol: 'TCP', port: admin.port }],
    });
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: kubernetesNames(plan).process(process.name),
      labels: { 'app.kubernetes.io/name': plan.name, 'app.kubernetes.io/component': process.name },
    },
    spec: {
      podSelector: { matchLabels: podSelector(plan, process.name) },
      policyTypes: ['Ingress'],
      // An empty list admits nothing: a process nobody calls and with no listener of its own.
      ingress,
    },
  };
}
