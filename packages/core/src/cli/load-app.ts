/**
 * Reads a topology file far enough to find its app module, and imports that module. A `.ts` entry is
 * compiled on the fly by tsx, with the nearest `tsconfig.json` (so `experimentalDecorators` applies).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { topologyOptionsOf } from '../app/topology-source.js';
import { type AppDefinition, isAppDefinition } from '../app.js';
import { AppDefinitionError, TopologyError } from '../errors.js';
import { interpolateEnv, parseTopology, readTopologyFile, type Topology } from '../topology.js';

/** A topology file as JSON, before validation. */
export interface RawTopology {
  /** Absolute path of the file. */
  readonly file: string;
  /** The parsed JSON object. */
  readonly raw: Record<string, unknown>;
}

/** Reads and JSON-parses a topology file. Throws {@link TopologyError} naming the file. */
export function readRawTopology(file: string): RawTopology {
  const { file: absolute, raw } = readTopologyFile(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid(
      absolute,
      'topology',
      'expected a JSON object like { "app": "src/app.ts", "processes": {...} }',
    );
  }
  return { file: absolute, raw: raw as Record<string, unknown> };
}

/**
 * Validates a topology read by {@link readRawTopology} for its app (the app's plugins own sections),
 * interpolating `env` (default: `process.env`).
 */
export function validateRawTopology(
  topology: RawTopology,
  app: AppDefinition,
  env?: Readonly<Record<string, string | undefined>>,
): Topology {
  return parseTopology(topology.raw, {
    ...topologyOptionsOf(app),
    baseDir: path.dirname(topology.file),
    source: topology.file,
    ...(env === undefined ? {} : { env }),
  });
}

function invalid(file: string, at: string, message: string) {
  return new TopologyError(`invalid topology ${file}:\n  - ${at}: ${message}`, {
    details: { source: file, issues: [{ path: at, message }] },
  });
}

/** Options of {@link loadApp}. */
export interface LoadAppOptions {
  /** Environment for `${VAR}` in `app`. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** True when a TypeScript loader is already registered (the CLI runs from sources). Default: false. */
  readonly typescriptRegistered?: boolean;
}

/** The app a topology names. */
export interface LoadedApp {
  /** The app definition exported by the module. */
  readonly app: AppDefinition;
  /** Absolute path of the app module. */
  readonly entry: string;
}

const TYPESCRIPT_ENTRY = /\.(?:[cm]?ts|tsx)$/;

/**
 * Imports the module named by the topology's `app` (relative to the topology file) and returns the
 * app it exports as `app` or `default`.
 */
export async function loadApp(topology: RawTopology, options: LoadAppOptions = {}): Promise<LoadedApp> {
  const { file, raw } = topology;
  if (typeof raw.app !== 'string' || raw.app === '') {
    throw invalid(
      file,
      'topology.app',
      'missing; set it to the module that exports the app, relative to this file (e.g. "src/app.ts")',
    );
  }
  const appPath = interpolateEnv(raw.app, options.env ?? process.env, 'topology.app') as string;
  const entry = path.resolve(path.dirname(file), appPath);
  if (!existsSync(entry)) {
    throw invalid(
      file,
      'topology.app',
      `module ${entry} does not exist; fix the path (it is relative to the topology file)`,
    );
  }
  checkModuleFormat(entry, file);
  if (TYPESCRIPT_ENTRY.test(entry) && !options.typescriptRegistered) await registerTypeScript(entry);
  const exports = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  const candidate = 'app' in exports ? exports.app : exports.default;
  if (!isAppDefinition(candidate)) {
    const names = Object.keys(exports);
    throw new AppDefinitionError(
      `${entry} (topology.app of ${file}) exports no app: export the result of defineApp() as "app" or as the default export; its exports are: ${names.length > 0 ? names.join(', ') : '(none)'}`,
      { details: { entry, exports: names } },
    );
  }
  return { app: candidate, entry };
}

/** The nearest `package.json` above `from`, with its `type`. */
function nearestManifest(from: string): { file: string; type: unknown } | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        return {
          file: candidate,
          type: (JSON.parse(readFileSync(candidate, 'utf8')) as { type?: unknown }).type,
        };
      } catch {
        return { file: candidate, type: undefined };
      }
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Refuses an app module Node would load as CommonJS (a `.ts`/`.js` file under a package.json without
 * `"type": "module"`, as `npm init -y` writes it): Blueprint apps are ES modules, and loading one as
 * CommonJS fails later with an error that names neither the cause nor the fix.
 */
function checkModuleFormat(entry: string, topologyFile: string): void {
  if (/\.(?:mts|mjs)$/.test(entry) || !/\.(?:ts|tsx|js)$/.test(entry)) return;
  const manifest = nearestManifest(path.dirname(entry));
  if (manifest?.type === 'module') return;
  const where =
    manifest === undefined
      ? 'no package.json was found above it'
      : `${manifest.file} has ${manifest.type === undefined ? 'no "type"' : `"type": ${JSON.stringify(manifest.type)}`}`;
  throw new AppDefinitionError(
    `${entry} (topology.app of ${topologyFile}) would load as CommonJS: ${where}. Blueprint apps are ES modules: set "type": "module" in the app's package.json (or rename the file to .mts / .mjs)`,
    { details: { entry, packageJson: manifest?.file } },
  );
}

async function registerTypeScript(entry: string): Promise<void> {
  let register: typeof import('tsx/esm/api')['register'];
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch (error) {
    throw new AppDefinitionError(
      `${entry} is TypeScript, which the CLI runs through tsx, but tsx cannot be loaded: npm install tsx (or build the app and point topology.app at the .js file)`,
      { cause: error },
    );
  }
  const tsconfig = findTsconfig(path.dirname(entry));
  register(tsconfig === undefined ? {} : { tsconfig });
}

function findTsconfig(from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'tsconfig.json');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}
