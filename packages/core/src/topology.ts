/**
 * Topology: the JSON file that decides where services run. The app never reads it; `createApp` and the
 * CLI do. It is parsed by a strict zod schema built from core's keys plus the sections of the app's
 * plugins, after `${ENV_VAR:-default}` interpolation. Every error names the path and the fix.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { AppDefinition } from './app.js';
import { parseJsonSafely } from './codec.js';
import { TopologyError } from './errors.js';
import { type ObservabilityTopology, observabilitySchema } from './observability/config.js';
import type { Plugin } from './plugin.js';
import { byteSizeSchema, countSchema, durationSchema, flagSchema, portSchema } from './units.js';

/** How calls that stay inside a process are checked. */
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

/** `rpc` section, `type: "local"`: every service a process calls must be hosted in that process. */
export const localRpcSchema = z.strictObject({ type: z.literal('local'), ...localCallsShape });

/** `rpc` section, `type: "http"`: JSON over HTTP/1.1 with keep-alive pools. */
export const httpRpcSchema = z.strictObject({
  type: z.literal('http'),
  ...localCallsShape,
  /** Per-call timeout of remote calls when the caller gives none. Default: `"10s"`. */
  timeout: durationSchema.optional().default(10_000),
  /** Largest request or response body accepted. Default: `"1mb"`. */
  bodyLimit: byteSizeSchema.optional().default(1024 * 1024),
  /** Keep-alive connections per remote process. Default: 64. */
  connections: countSchema.optional().default(64),
  /** How long an idle keep-alive connection stays open. Default: `"4s"`. */
  keepAliveTimeout: durationSchema.optional().default(4_000),
});

/** Builds a discriminated union whose error for an unknown `type` lists the allowed values. */
export function transportUnion<const Options extends readonly [z.ZodObject<any>, ...z.ZodObject<any>[]]>(
  what: string,
  options: Options,
) {
  return z.discriminatedUnion('type', options as any, {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const allowed = (issue as { options?: unknown[] }).options ?? [];
      const input = issue.input as { type?: unknown } | undefined;
      const given = input && typeof input === 'object' ? input.type : undefined;
      return given === undefined
        ? `missing "type" for ${what}; allowed: ${allowed.join(', ')}`
        : `unknown ${what} ${JSON.stringify(given)}; allowed: ${allowed.join(', ')}`;
    },
  }) as unknown as z.ZodDiscriminatedUnion<[...Options]>;
}

/** The `rpc` section. */
export const rpcSchema = transportUnion('rpc transport', [localRpcSchema, httpRpcSchema]);

const PROCESS_NAME = /^[a-z][a-z0-9-]*$/;

/** One entry of `processes`. */
export const processSchema = z.strictObject({
  /** Names of the services this process hosts. */
  services: z.array(z.string()),
  /**
   * Base URL other processes use to call this one (`http` RPC), e.g. `"http://127.0.0.1:${PRODUCTS_PORT:-4001}"`.
   * Required for a process that hosts services with methods under `http` RPC.
   */
  address: z
    .url({ protocol: /^https?$/, error: 'invalid address: use a URL like "http://127.0.0.1:4001"' })
    .optional(),
  /** Where the RPC server binds, when it differs from `address` (e.g. `{ "host": "0.0.0.0" }`). */
  listen: z.strictObject({ host: z.string().optional(), port: portSchema.optional() }).optional(),
});

/** Core's own top-level keys. */
const coreShape = {
  /** JSON schema reference for editors; ignored. */
  $schema: z.string().optional(),
  /** A name for logs. */
  name: z.string().optional(),
  /** The app module, relative to the topology file. It must export the app as `app` or `default`. */
  app: z.string().min(1),
  /** How services reach each other. Default: `{ "type": "local" }`. */
  rpc: rpcSchema
    .optional()
    .default({ type: 'local', serialize: false, validate: { input: true, output: true } }),
  /** How long `stop()` waits for in-flight work. Default: `"10s"`. */
  shutdownTimeout: durationSchema.optional().default(10_000),
  /**
   * App settings by name (strings, numbers, booleans), e.g. `{ "dataDir": "${DATA_DIR:-.data/split}" }`.
   * Services read them through the `Tokens.Settings` injection token. Default: `{}`.
   */
  settings: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .optional()
    .default({}),
  /** Logs, metrics and traces: `{ logLevel?, metrics?: { enabled?, port?, host? }, tracing?: { enabled? } }`. */
  observability: observabilitySchema.optional(),
  /** Processes by name. */
  processes: z.record(
    z.string().regex(PROCESS_NAME, 'invalid process name: use lower-case letters, digits and dashes'),
    processSchema,
  ),
};

/** A process of the topology. */
export type ProcessTopology = z.output<typeof processSchema>;
/** The parsed `rpc` section. */
export type RpcTopology = z.output<typeof rpcSchema>;

/** A parsed, validated topology. Plugin sections are under their keys. */
export interface Topology {
  readonly name?: string | undefined;
  readonly app: string;
  readonly rpc: RpcTopology;
  readonly shutdownTimeout: number;
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
}

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

/** One problem in a topology: where and how to fix it. */
export interface TopologyIssue {
  /** Path in the file, e.g. `topology.processes.products.services[1]`. */
  readonly path: string;
  /** What is wrong and what to do. */
  readonly message: string;
}

function formatPath(segments: readonly PropertyKey[]): string {
  let out = 'topology';
  for (const segment of segments) out += typeof segment === 'number' ? `[${segment}]` : `.${String(segment)}`;
  return out;
}

function describeZodIssue(issue: z.core.$ZodIssue, allowedRootKeys: readonly string[]): TopologyIssue[] {
  const at = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const keyPath = `${at}.${key}`;
      if (issue.path.length === 0 && SECTION_HINTS[key] && !allowedRootKeys.includes(key)) {
        return {
          path: keyPath,
          message: `section "${key}" needs a plugin: add ${SECTION_HINTS[key]} to the app's plugins`,
        };
      }
      return { path: keyPath, message: `unknown key "${key}"; remove it or fix its spelling` };
    });
  }
  return [{ path: at, message: issue.message }];
}

/** Options of {@link parseTopology}. */
export interface ParseTopologyOptions {
  /** Plugins whose sections are allowed. Default: none. */
  plugins?: readonly Plugin[];
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
  const sectionShape: Record<string, z.ZodType> = {};
  for (const plugin of options.plugins ?? []) {
    if (plugin.section) sectionShape[plugin.section.key] = plugin.section.schema.optional();
  }
  const schema = z.strictObject({ ...coreShape, ...sectionShape });
  const result = schema.safeParse(interpolated);
  if (!result.success) {
    const allowed = [...Object.keys(coreShape), ...Object.keys(sectionShape)];
    fail(
      source,
      result.error.issues.flatMap((issue) => describeZodIssue(issue, allowed)),
    );
  }
  const data = result.data as Record<string, unknown> & z.output<z.ZodObject<typeof coreShape>>;
  const issues: TopologyIssue[] = [];
  const placement = new Map<string, string>();
  for (const [processName, processTopology] of Object.entries(data.processes)) {
    processTopology.services.forEach((service, index) => {
      const previous = placement.get(service);
      if (previous !== undefined) {
        issues.push({
          path: `topology.processes.${processName}.services[${index}]`,
          message: `service "${service}" is already placed in process "${previous}"; a service runs in exactly one process, remove one of them`,
        });
      } else placement.set(service, processName);
    });
  }
  const metricsPorts = data.observability?.metrics.port;
  if (typeof metricsPorts === 'object') {
    for (const name of Object.keys(metricsPorts)) {
      if (!Object.hasOwn(data.processes, name)) {
        issues.push({
          path: `topology.observability.metrics.port.${name}`,
          message: `unknown process "${name}"; the topology has: ${Object.keys(data.processes).join(', ')}`,
        });
      }
    }
  }
  if (Object.keys(data.processes).length === 0) {
    issues.push({
      path: 'topology.processes',
      message: 'no processes; add at least one, e.g. { "main": { "services": [...] } }',
    });
  }
  if (issues.length > 0) fail(source, issues);
  const sections: Record<string, unknown> = {};
  for (const key of Object.keys(sectionShape)) if (data[key] !== undefined) sections[key] = data[key];
  return {
    name: data.name,
    app: data.app,
    rpc: data.rpc,
    shutdownTimeout: data.shutdownTimeout,
    processes: data.processes,
    settings: data.settings,
    observability: data.observability,
    baseDir: options.baseDir ?? process.cwd(),
    source,
    sections,
  };
}

/**
 * Checks a topology against an app: every service of the app is placed, no unknown service is placed,
 * and a multi-process topology uses a transport that crosses processes. (A process without an
 * `address` cannot be called; a caller that needs it fails at start with a message naming the key.)
 */
export function checkTopologyAgainstApp(topology: Topology, app: AppDefinition): void {
  const issues: TopologyIssue[] = [];
  const known = new Set(app.services.map((s) => s.contract.name));
  const placed = new Set<string>();
  for (const [processName, processTopology] of Object.entries(topology.processes)) {
    processTopology.services.forEach((service, index) => {
      placed.add(service);
      if (!known.has(service)) {
        issues.push({
          path: `topology.processes.${processName}.services[${index}]`,
          message: `unknown service "${service}"; the app "${app.name}" has: ${[...known].join(', ')}`,
        });
      }
    });
  }
  for (const service of known) {
    if (!placed.has(service)) {
      issues.push({
        path: 'topology.processes',
        message: `service "${service}" is placed nowhere; add it to the "services" of one process`,
      });
    }
  }
  if (topology.rpc.type === 'local' && Object.keys(topology.processes).length > 1) {
    issues.push({
      path: 'topology.rpc.type',
      message:
        'rpc "local" only reaches services in the same process, but this topology has several processes; use "http"',
    });
  }
  if (issues.length > 0) fail(topology.source, issues);
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
