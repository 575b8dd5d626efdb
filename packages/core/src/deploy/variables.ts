/**
 * The environment variables a topology file reads (`${VAR}` and `${VAR:-default}`), where it reads
 * them, and which of them hold secrets. Values are never read here: a deployment names variables, the
 * orchestrator supplies them.
 */
import type { TopologyIssue } from '../topology.js';

/** A variable the topology reads. */
export interface PlanVariable {
  /** Its name, e.g. `SERVICE_SECRET`. */
  readonly name: string;
  /** The default the topology gives (`${VAR:-default}`), or `undefined`: the variable must be set. */
  readonly default: string | undefined;
  /** Where the topology reads it, e.g. `topology.auth.secret`. */
  readonly paths: readonly string[];
  /**
   * True for a secret: read at `auth.secret`, `auth.previousSecret` or `admin.token`, or named like one
   * (`SECRET`, `TOKEN`, `PASSWORD`, `CREDENTIAL`, `API_KEY`, `PRIVATE`). A deployment takes it from a
   * secret store and never writes its value.
   */
  readonly secret: boolean;
}

/** A `${VAR}` or `${VAR:-default}` reference, as the topology's interpolation reads it. */
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** A string that is exactly one reference, e.g. `${REDIS_URL:-redis://127.0.0.1:6379}`. */
const WHOLE_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

const SECRET_PATHS = new Set([
  'topology.auth.secret',
  'topology.auth.previousSecret',
  'topology.admin.token',
]);
const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|PRIVATE/i;

/** One reference in the raw topology. */
export interface VariableReference {
  readonly name: string;
  readonly default: string | undefined;
  readonly path: string;
}

/** Every reference in a raw topology value, in document order. */
export function variableReferences(value: unknown, at = 'topology'): VariableReference[] {
  if (typeof value === 'string') {
    return [...value.matchAll(REFERENCE)].map((match) => ({
      name: match[1]!,
      default: match[2],
      path: at,
    }));
  }
  if (Array.isArray(value))
    return value.flatMap((item, index) => variableReferences(item, `${at}[${index}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => variableReferences(item, `${at}.${key}`));
  }
  return [];
}

/** The variables a raw topology reads, one entry per name, in the order they first appear. */
export function topologyVariables(raw: unknown): PlanVariable[] {
  const byName = new Map<string, { default: string | undefined; paths: string[] }>();
  for (const reference of variableReferences(raw)) {
    const known = byName.get(reference.name);
    if (known === undefined) {
      byName.set(reference.name, { default: reference.default, paths: [reference.path] });
    } else {
      known.paths.push(reference.path);
      // A use without a default makes the variable required.
      if (reference.default === undefined) known.default = undefined;
    }
  }
  return [...byName].map(([name, { default: fallback, paths }]) => ({
    name,
    default: fallback,
    paths,
    secret: SECRET_NAME.test(name) || paths.some((path) => SECRET_PATHS.has(path)),
  }));
}

/** The variable a string consists of, or `undefined` when it is a literal or mixes text and variables. */
export function wholeReference(value: unknown): { name: string; default: string | undefined } | undefined {
  if (typeof value !== 'string') return undefined;
  const match = WHOLE_REFERENCE.exec(value);
  return match === null ? undefined : { name: match[1]!, default: match[2] };
}

/** The keys that hold secrets, and the variable a topology reads each from. */
const SECRET_KEYS = [
  { section: 'auth', key: 'secret', variable: 'SERVICE_SECRET' },
  { section: 'auth', key: 'previousSecret', variable: 'PREVIOUS_SERVICE_SECRET' },
  { section: 'admin', key: 'token', variable: 'ADMIN_TOKEN' },
] as const;

/**
 * Secrets a deployment would copy into its files (the Compose config, the ConfigMap, the image): one
 * written in the topology itself, or the default of a secret variable, which would also apply wherever
 * the variable is unset. A default of `""` writes nothing and is allowed.
 */
export function writtenSecretIssues(
  raw: Readonly<Record<string, unknown>>,
  variables: readonly PlanVariable[],
): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  for (const { section, key, variable } of SECRET_KEYS) {
    const entry = raw[section];
    if (typeof entry !== 'object' || entry === null) continue;
    const value = (entry as Record<string, unknown>)[key];
    if (value === undefined || wholeReference(value) !== undefined) continue;
    issues.push({
      path: `topology.${section}.${key}`,
      message: `a secret written in the file would be copied into every exported file; read it from a variable: "\${${variable}}"`,
    });
  }
  for (const variable of variables) {
    if (!variable.secret || variable.default === undefined || variable.default === '') continue;
    issues.push({
      path: variable.paths[0]!,
      message: `secret ${variable.name} has a default, which would be copied into the exported files and used wherever ${variable.name} is unset; drop it: "\${${variable.name}}"`,
    });
  }
  return issues;
}
