/**
 * The packages as users get them: builds the workspace and `npm pack`s every publishable package
 * (`packages/*` that is not private) into one folder. The pack test and the starter test share it.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The root of the repository. */
export const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A `package.json`, as far as these tests read it. */
export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  exports?: Record<string, unknown>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
}

/** A publishable package of the workspace. */
export interface WorkspacePackage {
  /** Its folder, relative to the repository root, e.g. `packages/core`. */
  readonly dir: string;
  /** Its `package.json`. */
  readonly manifest: Manifest;
}

/** Publishable packages: every `packages/*` that is not private. */
export const publishablePackages: readonly WorkspacePackage[] = readdirSync(
  path.join(repositoryRoot, 'packages'),
)
  .map((dir) => ({
    dir: path.join('packages', dir),
    manifest: JSON.parse(
      readFileSync(path.join(repositoryRoot, 'packages', dir, 'package.json'), 'utf8'),
    ) as Manifest,
  }))
  .filter((pkg) => pkg.manifest.private !== true);

/** The root `package.json`. */
export const rootManifest = JSON.parse(readFileSync(path.join(repositoryRoot, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};

/** The environment of npm children without the npm_* variables of an enclosing `npm test`. */
export const npmEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)),
);

/** Options of {@link exec}. */
export interface ExecOptions {
  /** Environment. Default: {@link npmEnv}. */
  readonly env?: NodeJS.ProcessEnv;
  /** Kills the command after this many milliseconds. Default: none. */
  readonly timeout?: number;
}

/** Runs a command to its end; a failure throws with the command, the folder and both outputs. */
export function exec(command: string, args: readonly string[], cwd: string, options: ExecOptions = {}) {
  return run(command, [...args], {
    cwd,
    env: options.env ?? npmEnv,
    maxBuffer: 64 * 1024 * 1024,
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
  }).catch((error) => {
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${error.stdout}\n${error.stderr}`, {
      cause: error,
    });
  });
}

/** The packed packages. */
export interface PackedWorkspace {
  /** The folder holding the tarballs (what `BLUEPRINT_PACKAGES_DIR` points at). */
  readonly dir: string;
  /** The tarball of each package, by package name. */
  readonly tarballs: Readonly<Record<string, string>>;
  /** Removes the folder. */
  remove(): Promise<void>;
}

/**
 * Builds the workspace (`npm run build`) and packs every publishable package into a new folder in the
 * OS temp directory.
 */
export async function packWorkspace(): Promise<PackedWorkspace> {
  await exec('npm', ['run', 'build'], repositoryRoot);
  const dir = await mkdtemp(path.join(tmpdir(), 'blueprint-tarballs-'));
  const packed = await exec(
    'npm',
    ['pack', '--json', '--pack-destination', dir, ...publishablePackages.flatMap((pkg) => ['-w', pkg.dir])],
    repositoryRoot,
  );
  const entries = JSON.parse(packed.stdout) as { name: string; filename: string }[];
  const tarballs = Object.fromEntries(
    entries.map((entry) => [entry.name, path.join(dir, entry.filename.replace(/^@/, '').replace('/', '-'))]),
  );
  return { dir, tarballs, remove: () => rm(dir, { recursive: true, force: true }) };
}
