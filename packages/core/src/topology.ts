/**
 * Topology: the JSON file that decides where services run. The app never reads it; `createApp` and the
 * CLI do. It is parsed by a strict zod schema built from core's keys plus the sections of the app's
 * plugins, after `${ENV_VAR:-default}` interpolation. Every error names the path and the fix.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseJsonSafely } from './codec.js';
import { TopologyError } from './errors.js';
import { type ObservabilityTopology, observabilitySchema } from './observability/config.js';
import { httpRpc } from './rpc/http/index.js';
import { localRpc } from './rpc/local.js';
import { tcpRpc } from './rpc/tcp/index.js';
import type { RpcDriver } from './rpc/types.js';
import { closestName } from './suggest.js';
import { type AdminTopology, adminSectionSchema } from './topology/admin-schema.js';
import { crossKeyIssues, type TopologyIssue } from './topology/checks.js';
import { type ProcessEntry, processSchema } from './topology/process-schema.js';
import {
  type AuthTopology,
  authSectionSchema,
  type TlsTopology,
  tlsSectionSchema,
} from './topology/security-schema.js';
import { type AnyDriver, driverSectionSchema } from './transport/drivers.js';
import { durationSchema, flagSchema } from './units.js';

/**
 * Keys every `rpc` section has, whatever its `type`: how calls that stay inside a process are checked.
 */
const localCallsShape = {
  /**
   * Round-trip inputs and outputs of in-process calls through the codec, so a monolith cannot rely on
   * shared object references and then break once split. Default: false.
   */
  serialize: flagSchema.optional().default(false),
  /** Validate in-process calls. `output: false` skips output parsing on the local path. Default: both true. */
  validate: z
    .strictObject({ input: flagSchema.optional().default(true), output: flagSchema.optional().default(true) })
    .optional()
    .default({ input: true, output: true }),
};

/** The RPC drivers every app has: `local`, `http` and `tcp`. Plugins may add more (`Plugin.rpcDrivers`). */
export const BUILT_IN_RPC_DRIVERS: readonly RpcDriver[] = Object.freeze([
  localRpc as unknown as RpcDriver,
  httpRpc as unknown as RpcDriver,
  tcpRpc as unknown as RpcDriver,
]);

/** The schema of the `rpc` section: the union of the registered RPC drivers, plus the local-call keys. */
export function rpcSectionSchema(drivers: readonly RpcDriver[] = BUILT_IN_RPC_DRIVERS): z.ZodType {
  return driverSectionSchema('rpc transport', drivers as readonly AnyDriver[], localCallsShape);
}

/** A topology section owned by a plugin: its top-level key and strict zod schema. */
export interface TopologySection {
  /** Top-level key in the topology file (e.g. `"cache"`). */
  readonly key: string;
  /** Strict zod schema of the section. */
  readonly schema: z.ZodType;
  /**
   * Keys of the section that were renamed, old name → new name, so an old topology file gets an error
   * naming the new key instead of "unknown key". Default: none.
   */
  readonly renamedKeys?: Readonly<Record<string, string>>;
}

const PROCESS_NAME = /^[a-z][a-z0-9-]*$/;

/** Core's own top-level keys. */
const coreShape = {
  /** JSON schema reference for editors; ignored. */
  $schema: z.string().optional(),
  /** A name for logs. */
  name: z.string().optional(),
  /** The app module, relative to the topology file. It must export the app as `app` or `default`. */
  app: z.string().min(1),
  /** How long `stop()` waits for in-flight work. Default: `"10s"`. */
  shutdownTimeout: durationSchema.optional().default(10_000),
  /**
   * How long a process keeps serving after `stop()` (SIGTERM) while it reports not ready, so load
   * balancers and Kubernetes endpoints stop sending it work before it stops accepting. Default: `"0s"`.
   */
  drainDelay: durationSchema.optional().default(0),
  /**
   * App settings by name (strings, numbers, booleans), e.g. `{ "dataDir": "${DATA_DIR:-.data/split}" }`.
   * Services read them through the `Tokens.Settings` injection token. Default: `{}`.
   */
  settings: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .optional()
    .default({}),
  /** Logs, metrics and traces: `{ logLevel?, metrics?: { enabled? }, tracing?: { enabled? } }`. */
  observability: observabilitySchema.optional(),
  /** How calls between services are authenticated: `{ "secret": "${SERVICE_SECRET}" }`, or `"none"`. */
  auth: authSectionSchema.optional(),
  /** Certificates of `https://` addresses: `{ "ca", "cert", "key", "clientCert"?, "clientKey"? }`. */
  tls: tlsSectionSchema.optional(),
  /**
   * What readiness requires: `{ "dependencies": "informational" }` (the default: the services and brokers
   * a process calls are reported but do not take it out of rotation, so one dead process does not take
   * every process out) or `"required"`.
   */
  readiness: z
    .strictObject({ dependencies: z.enum(['informational', 'required']).optional().default('informational') })
    .optional(),
  /** The operator listener of each process: `{ "port": 9464 | { "<process>": 9465 }, "host"?, "token"? }`. */
  admin: adminSectionSchema.optional(),
  /** Processes by name. */
  processes: z.record(
    z.string().regex(PROCESS_NAME, 'invalid process name: use lower-case letters, digits and dashes'),
    processSchema,
  ),
};

/** A process of the topology. */
export type ProcessTopology = ProcessEntry;

/** The parsed `rpc` section: the driver's `type` and options, and the local-call checks. */
export interface RpcTopology {
  /** The RPC driver, e.g. `"http"`. */
  readonly type: string;
  /** Round-trip in-process calls through the codec. */
  readonly serialize: boolean;
  /** Validation of in-process calls. */
  readonly validate: { readonly input: boolean; readonly output: boolean };
  /** The driver's own options. */
  readonly [option: string]: unknown;
}

const DEFAULT_RPC: RpcTopology = { type: 'local', serialize: false, validate: { input: true, output: true } };

/** A parsed, validated topology. Plugin sections are under their keys. */
export interface Topology {
  readonly name?: string | undefined;
  readonly app: string;
  readonly rpc: RpcTopology;
  readonly shutdownTimeout: number;
  /** How long a stopping process keeps serving while it reports not ready, in ms. */
  readonly drainDelay: number;
  readonly processes: Readonly<Record<string, ProcessTopology>>;
  /** Directory of the topology file (or the working directory), used to resolve `app`. */
  readonly baseDir: string;
  /** Where the topology came from, for messages. */
  readonly source: string;
  /** Plugin sections by key. */
  readonly sections: Readonly<Record<string, unknown>>;
  /** App settings from the `settings` key. */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  /** The `observability` section, when the topology has one (defaults filled in). */
  readonly observability?: ObservabilityTopology | undefined;
  /** The `auth` section, when the topology has one. */
  readonly auth?: AuthTopology | undefined;
  /** The top-level `tls` section, when the topology has one. */
  readonly tls?: TlsTopology | undefined;
  /** The `admin` section, when the topology has one. */
  readonly admin?: AdminTopology | undefined;
  /** The `readiness` section, when the topology has one. */
  readonly readiness?: { readonly dependencies: 'informational' | 'required' } | undefined;
}

/** Core keys that moved, by their old path, so an old topology file gets an error naming the new key. */
const CORE_RENAMED_KEYS: Readonly<Record<string, string>> = {
  'topology.observability.metrics.port': 'admin.port',
  'topology.observability.metrics.host': 'admin.host',
};

/** Sections of first-party plugins, to tell a user which plugin a section needs. */
const SECTION_HINTS: Record<string, string> = {
  events: 'eventsPlugin() from @blueprint/events',
  cache: 'cachePlugin() from @blueprint/cache',
  policies: 'resiliencePlugin() from @blueprint/resilience',
};

const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed JSON value, as a shell does:
 * `${VAR:-default}` takes the default when `VAR` is unset or empty; `${VAR}` takes the value, even
 * empty. A variable that is unset and has no default is a {@link TopologyError} naming each such path.
 *
 * @example
 * interpolateEnv({ address: 'http://127.0.0.1:${PORT:-4001}' }, { PORT: '5000' }) // { address: 'http://127.0.0.1:5000' }
 */
export function interpolateEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>> = process.env,
  at = 'topology',
): unknown {
  const issues: TopologyIssue[] = [];
  const out = interpolateValue(value, env, at, issues);
  if (issues.length > 0) {
    const lines = issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n');
    throw new TopologyError(`unset environment variables in the topology:\n${lines}`, {
      details: { issues },
    });
  }
  return out;
}

function interpolateValue(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  at: string,
  issues: TopologyIssue[],
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    return value.replace(ENV_REFERENCE, (match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (fallback !== undefined) return found === undefined || found === '' ? fallback : found;
      if (found !== undefined) return found;
      issues.push({
        path: at,
        message: `environment variable ${name} is not set; set it or give a default with \${${name}:-value}`,
      });
      return match;
    });
  }
  if (Array.isArray(value))
    return value.map((item, index) => interpolateValue(item, env, `${at}[${index}]`, issues));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateValue(item, env, `${at}.${key}`, issues)]),
    );
  }
  return value;
}

export type { TopologyIssue };

function formatPath(segments: readonly PropertyKey[]): string {
  let out = 'topology';
  for (const segment of segments) out += typeof segment === 'number' ? `[${segment}]` : `.${String(segment)}`;
  return out;
}

/** The object schemas a value at `path` of `schema` may have (unwrapping optionals, defaults, unions). */
function objectsAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodObject[] {
  const def = (schema as unknown as { def: Record<string, unknown> & { type: string } }).def;
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
      return objectsAt(def.innerType as z.ZodType, path);
    case 'pipe':
      return objectsAt(def.in as z.ZodType, path);
    case 'union':
      return (def.options as z.ZodType[]).flatMap((option) => objectsAt(option, path));
    case 'object': {
      if (path.length === 0) return [schema as z.ZodObject];
      const child = (schema as z.ZodObject).shape[String(path[0])];
      return child === undefined ? [] : objectsAt(child as z.ZodType, path.slice(1));
    }
    case 'record':
      return path.length === 0 ? [] : objectsAt(def.valueType as z.ZodType, path.slice(1));
    case 'array':
      return path.length === 0 ? [] : objectsAt(def.element as z.ZodType, path.slice(1));
    default:
      return [];
  }
}

/** The keys an object at `path` of `schema` accepts. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  return [...new Set(objectsAt(schema, path).flatMap((object) => Object.keys(object.shape)))];
}

function describeZodIssue(
  issue: z.core.$ZodIssue,
  allowedRootKeys: readonly string[],
  sections: readonly TopologySection[],
  schema: z.ZodType,
): TopologyIssue[] {
  const at = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const section = sections.find((candidate) => candidate.key === issue.path[0]);
    return issue.keys.map((key) => {
      const keyPath = `${at}.${key}`;
      const renamed = section?.renamedKeys?.[key] ?? CORE_RENAMED_KEYS[`${at}.${key}`];
      if (renamed !== undefined) {
        return { path: keyPath, message: `"${key}" was renamed: write "${renamed}" instead` };
      }
      if (issue.path.length === 0 && SECTION_HINTS[key] && !allowedRootKeys.includes(key)) {
        return {
          path: keyPath,
          message: `section "${key}" needs a plugin: add ${SECTION_HINTS[key]} to the app's plugins`,
        };
      }
      const known = issue.path.length === 0 ? allowedRootKeys : keysAt(schema, issue.path);
      const suggestion = closestName(key, known);
      return {
        path: keyPath,
        message:
          suggestion === undefined
            ? `unknown key "${key}"; remove it or fix its spelling`
            : `unknown key "${key}"; did you mean "${suggestion}"?`,
      };
    });
  }
  return [{ path: at, message: issue.message }];
}

/** Options of {@link parseTopology}. */
export interface ParseTopologyOptions {
  /** Sections of the app's plugins, allowed besides core's keys. Default: none. */
  sections?: readonly TopologySection[];
  /** RPC drivers the `rpc` section may select. Default: {@link BUILT_IN_RPC_DRIVERS}. */
  rpcDrivers?: readonly RpcDriver[];
  /** Directory that `app` is relative to. Default: the working directory. */
  baseDir?: string;
  /** Name of the source for messages (a file path). */
  source?: string;
  /** Environment for `${VAR}` interpolation. Default: `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

function fail(source: string, issues: TopologyIssue[]): never {
  const lines = issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n');
  throw new TopologyError(`invalid topology ${source}:\n${lines}`, { details: { source, issues } });
}

/**
 * Validates a topology object (already read from JSON). Throws {@link TopologyError} listing every
 * problem with its path and fix.
 */
export function parseTopology(raw: unknown, options: ParseTopologyOptions = {}): Topology {
  const source = options.source ?? '(inline)';
  const envIssues: TopologyIssue[] = [];
  const interpolated = interpolateValue(raw, options.env ?? process.env, 'topology', envIssues);
  if (envIssues.length > 0) fail(source, envIssues);
  const sections = options.sections ?? [];
  const sectionShape: Record<string, z.ZodType> = {};
  for (const section of sections) sectionShape[section.key] = section.schema.optional();
  /** How services reach each other. Default: `{ "type": "local" }`. */
  const rpc = rpcSectionSchema(options.rpcDrivers ?? BUILT_IN_RPC_DRIVERS).optional();
  const schema = z.strictObject({ ...coreShape, rpc, ...sectionShape });
  const result = schema.safeParse(interpolated);
  if (!result.success) {
    const allowed = [...Object.keys(coreShape), 'rpc', ...Object.keys(sectionShape)];
    fail(
      source,
      result.error.issues.flatMap((issue) => describeZodIssue(issue, allowed, sections, schema)),
    );
  }
  const data = result.data as Record<string, unknown> &
    z.output<z.ZodObject<typeof coreShape>> & { rpc?: RpcTopology };
  const issues = crossKeyIssues(data);
  if (issues.length > 0) fail(source, issues);
  const parsedSections: Record<string, unknown> = {};
  for (const key of Object.keys(sectionShape)) if (data[key] !== undefined) parsedSections[key] = data[key];
  return {
    name: data.name,
    app: data.app,
    rpc: data.rpc ?? DEFAULT_RPC,
    shutdownTimeout: data.shutdownTimeout,
    drainDelay: data.drainDelay,
    processes: data.processes,
    settings: data.settings,
    observability: data.observability,
    auth: data.auth,
    tls: data.tls,
    admin: data.admin,
    readiness: data.readiness,
    baseDir: options.baseDir ?? process.cwd(),
    source,
    sections: parsedSections,
  };
}

/**
 * Reads a topology file: JSON, interpolated, validated. `app` is resolved relative to the file.
 * Throws {@link TopologyError} for a missing file, malformed JSON or any invalid value.
 */
export function loadTopologyFile(
  file: string,
  options: Omit<ParseTopologyOptions, 'baseDir' | 'source'> = {},
): Topology {
  const { file: absolute, raw } = readTopologyFile(file);
  return parseTopology(raw, { ...options, baseDir: path.dirname(absolute), source: absolute });
}

/** A topology file read as JSON, not yet validated. */
export interface TopologyFile {
  /** Absolute path of the file. */
  readonly file: string;
  /** The parsed JSON value. */
  readonly raw: unknown;
}

/**
 * Reads a topology file and parses its JSON, without validating it (the CLI reads `app` from it before
 * the app's plugins are known). Throws {@link TopologyError} for a missing file or malformed JSON.
 */
export function readTopologyFile(file: string): TopologyFile {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    const message = `cannot read topology file ${absolute}: ${reason}; check the path (it is relative to the working directory ${process.cwd()})`;
    throw new TopologyError(message, {
      cause: error,
      details: { source: absolute, issues: [{ path: 'topology', message }] },
    });
  }
  return { file: absolute, raw: readTopologyJson(text, absolute) };
}

/**
 * Parses the text of a topology file as JSON, with a coded error naming the file. `__proto__` and
 * `constructor.prototype` keys are refused.
 */
export function readTopologyJson(text: string, source: string): unknown {
  try {
    return parseJsonSafely(text);
  } catch (error) {
    const reason =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    const message = `topology ${source} is not valid JSON (${reason}); fix the syntax (JSON allows no comments or trailing commas)`;
    throw new TopologyError(message, {
      cause: error,
      details: { source, issues: [{ path: 'topology', message }] },
    });
  }
}
