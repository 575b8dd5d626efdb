/**
 * The new app's `package.json`: an ES module package with the scripts the README names, the Blueprint
 * packages at the starter's own version (or from local tarballs), and the tools the app runs with.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CreateAppError } from './errors.js';
import type { Template } from './templates.js';

/**
 * Versions of the other packages a new app depends on. They follow the Blueprint repository's own
 * (a unit test compares them), so a new app runs with what Blueprint is tested with.
 */
export const DEPENDENCY_VERSIONS = Object.freeze({
  /** The HTTP server the public API's route table runs on (`@blueprint/http/fastify`). */
  fastify: '^5.12.8',
  /** Redis client of the split topology's event transport (an optional peer of the Blueprint packages). */
  ioredis: '^5.9.2',
  /** Runs the TypeScript app without a build step (`blueprint start` loads `.ts` through it). */
  tsx: '^4.23.15',
  /** Schemas of contracts and events. */
  zod: '^4.6.7',
});

/** Versions of the tools a new app is developed with. */
export const DEV_DEPENDENCY_VERSIONS = Object.freeze({
  '@types/node': '^20.19.0',
  typescript: '^5.9.3',
  vitest: '^4.1.12',
});

/** The npm scripts of a new app. */
export const APP_SCRIPTS = Object.freeze({
  start: 'blueprint start --topology topology/monolith.json',
  'start:split': 'blueprint dev --topology topology/split.json',
  test: 'vitest run',
  typecheck: 'tsc --noEmit',
});

/** The version of this package: the Blueprint packages of a new app get `^<version>`. */
export function starterVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/** Options of {@link appManifest}. */
export interface AppManifestOptions {
  /** The package (and app) name. */
  readonly name: string;
  /** The template the app starts from. */
  readonly template: Template;
  /** The Blueprint version to depend on, e.g. `0.1.0`. */
  readonly version: string;
  /**
   * Where each Blueprint package comes from, by package name (`file:` specifiers from
   * {@link localTarballs}). Default: the registry, `^<version>`.
   */
  readonly sources?: Readonly<Record<string, string>>;
}

/** The `package.json` of a new app, as an object. */
export function appManifest(options: AppManifestOptions): Record<string, unknown> {
  const blueprint = Object.fromEntries(
    options.template.blueprintPackages.map((pkg) => {
      const name = `@blueprint/${pkg}`;
      return [name, options.sources?.[name] ?? `^${options.version}`];
    }),
  );
  return {
    name: options.name,
    version: '0.1.0',
    private: true,
    type: 'module',
    description: `A Blueprint app (template ${options.template.name})`,
    engines: { node: '>=20.19' },
    scripts: { ...APP_SCRIPTS },
    dependencies: sortKeys({ ...blueprint, ...DEPENDENCY_VERSIONS }),
    devDependencies: { ...DEV_DEPENDENCY_VERSIONS },
    // npm 11 runs the install scripts of listed dependencies only; esbuild's (under tsx and vitest)
    // checks its platform binary.
    allowScripts: { esbuild: true },
  };
}

function sortKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The `file:` specifiers of the tarballs in `dir` for the given packages (`npm pack` names them
 * `blueprint-<name>-<version>.tgz`). When a folder holds several versions of one package, the one at
 * `version` is taken. A missing folder or tarball is a {@link CreateAppError} naming what is missing.
 *
 * @example
 * localTarballs('/tmp/packs', ['core'], '0.1.0') // { '@blueprint/core': 'file:/tmp/packs/blueprint-core-0.1.0.tgz' }
 */
export function localTarballs(
  dir: string,
  packages: readonly string[],
  version: string,
): Record<string, string> {
  const folder = path.resolve(dir);
  let files: string[];
  try {
    if (!statSync(folder).isDirectory()) throw new Error('not a directory');
    files = readdirSync(folder).filter((file) => file.endsWith('.tgz'));
  } catch (error) {
    throw new CreateAppError(
      'CREATE_APP_PACKAGES_DIR',
      `BLUEPRINT_PACKAGES_DIR=${dir} is not a folder; point it at the folder where \`npm pack\` wrote the Blueprint tarballs, or unset it to install from the registry`,
      { cause: error },
    );
  }
  const sources: Record<string, string> = {};
  for (const pkg of packages) {
    const pattern = new RegExp(`^blueprint-${pkg}-(\\d+\\.\\d+\\.\\d+(?:-[0-9A-Za-z.-]+)?)\\.tgz$`);
    const found = files.flatMap((file) => {
      const match = pattern.exec(file);
      return match === null ? [] : [{ file, version: match[1] }];
    });
    const chosen = found.length === 1 ? found[0] : found.find((candidate) => candidate.version === version);
    if (chosen === undefined) {
      const what =
        found.length === 0
          ? `has no tarball of @blueprint/${pkg} (blueprint-${pkg}-<version>.tgz)`
          : `has ${found.length} tarballs of @blueprint/${pkg} (${found.map((f) => f.file).join(', ')}) and none is version ${version}`;
      throw new CreateAppError(
        'CREATE_APP_PACKAGES_DIR',
        `BLUEPRINT_PACKAGES_DIR=${dir} ${what}; pack it there with \`npm pack -w packages/${pkg} --pack-destination ${folder}\``,
      );
    }
    sources[`@blueprint/${pkg}`] = `file:${path.join(folder, chosen.file)}`;
  }
  return sources;
}
