/**
 * The names and labels of the Kubernetes objects of a deployment plan.
 */
import type { DeploymentPlan } from './plan.js';

/** Names of the objects an export refers to. */
export function kubernetesNames(plan: DeploymentPlan) {
  return {
    /** The Deployment, Service, PDB, NetworkPolicy and HPA of a process. */
    process: (name: string) => `${plan.name}-${name}`,
    /** The ConfigMap holding the topology. */
    topology: `${plan.name}-topology`,
    /** The Secret holding secrets (the service secret, tokens). */
    secrets: `${plan.name}-secrets`,
    /** The Secret holding the URLs of backing servers. */
    backing: `${plan.name}-backing`,
  };
}

/** The labels of a process's objects; the first two select its pods. */
export function processLabels(plan: DeploymentPlan, process: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': plan.name,
    'app.kubernetes.io/component': process,
    'app.kubernetes.io/part-of': plan.name,
  };
}

/** The labels that select a process's pods. */
export function podSelector(plan: DeploymentPlan, process: string): Record<string, string> {
  return { 'app.kubernetes.io/name': plan.name, 'app.kubernetes.io/component': process };
}
