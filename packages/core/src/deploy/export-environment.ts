// biome-ignore-all lint/suspicious/noTemplateCurlyInString: messages show the topology's own ${VAR} syntax
/**
 * The environment `blueprint export` reads a topology with: none of the shell's variables, so the files
 * written are the same wherever they are made. The defaults the file gives apply; a variable without
 * one gets a placeholder where the files only name it (a secret, the URL of a backing server), and is
 * refused, with the fix, where its value would shape the files.
 */
import type { TopologyIssue } from '../topology.js';
import type { BackingService } from './backing-services.js';
import type { PlanVariable } from './variables.js';

/** The length of the placeholder a secret without a default gets. */
const PLACEHOLDER_LENGTH = 48;

/**
 * The environment for export: a secret without a default gets a placeholder of 48 characters, the URL
 * variable of a backing server without one its laptop URL. Neither is ever written: the files name the
 * variable, the orchestrator supplies the value.
 */
export function exportEnvironment(
  variables: readonly PlanVariable[],
  servers: readonly BackingService[] = [],
): Record<string, string> {
  return Object.fromEntries(
    variables.flatMap((variable): [string, string][] => {
      if (variable.default !== undefined) return [];
      const server = servers.find((candidate) => candidate.variable === variable.name);
      if (server !== undefined) return [[variable.name, server.loopbackUrl]];
      return variable.secret ? [[variable.name, 'x'.repeat(PLACEHOLDER_LENGTH)]] : [];
    }),
  );
}

/**
 * The variables without a default that are neither secrets nor server URLs: their values would shape
 * the files (a port, a path), and export does not read them from the shell, so each needs a default.
 */
export function variablesWithoutDefault(
  variables: readonly PlanVariable[],
  servers: readonly BackingService[] = [],
): TopologyIssue[] {
  return variables
    .filter(
      (variable) =>
        variable.default === undefined &&
        !variable.secret &&
        !servers.some((server) => server.variable === variable.name),
    )
    .map((variable) => ({
      path: variable.paths[0]!,
      message: `reads \${${variable.name}} without a default; export reads the topology with its defaults, never the shell's variables, so give it one: "\${${variable.name}:-value}" (a deployment may still set ${variable.name})`,
    }));
}
