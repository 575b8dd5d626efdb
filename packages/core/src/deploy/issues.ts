/**
 * What keeps a topology from being deployed, reported like every topology problem: a
 * `TOPOLOGY_INVALID` error listing each path and its fix.
 */
import { TopologyError } from '../errors.js';
import type { TopologyIssue } from '../topology.js';

/** Throws one {@link TopologyError} for `issues` of the topology `source`, when there are any. */
export function assertDeployable(source: string, issues: readonly TopologyIssue[]): void {
  if (issues.length === 0) return;
  const lines = issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n');
  throw new TopologyError(`topology ${source} cannot be deployed:\n${lines}`, {
    details: { source, issues },
  });
}
