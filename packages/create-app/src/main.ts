/**
 * `create-app`: writes a new Blueprint app from a template, installs it, and prints how to run it.
 * `bin/create-app.js` calls {@link runCreateApp} and exits with what it resolves to.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { appNameFor } from './app-name.js';
import { parseCommand, USAGE } from './args.js';
import { CreateAppError, isCreateAppError } from './errors.js';
import { npmInstall } from './install.js';
import { appManifest, localTarballs, starterVersion } from './manifest.js';
import { findTemplate, writeTemplate } from './templates.js';

/** Where {@link runCreateApp} reads and writes; tests replace it. */
export interface CreateAppIo {
  /** The working directory the target is resolved against. Default: `process.cwd()`. */
  readonly cwd?: string;
  /** Environment (`BLUEPRINT_PACKAGES_DIR`). Default: `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Standard output. Default: `process.stdout`. */
  readonly stdout?: { write(text: string): unknown };
  /** Standard error. Default: `process.stderr`. */
  readonly stderr?: { write(text: string): unknown };
  /** Installs the app in a folder and resolves with an exit code. Default: `npm install`. */
  readonly install?: (cwd: string) => Promise<number>;
}

/** Files and folders that may already be in the target directory. */
const ALLOWED_IN_TARGET = new Set(['.git', '.DS_Store', 'Thumbs.db']);

/**
 * Runs the CLI with `argv` (the arguments after the program name) and resolves with the exit code:
 * 0 done, 1 failed, 2 bad command line.
 */
export async function runCreateApp(argv: readonly string[], io: CreateAppIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  try {
    const command = parseCommand(argv);
    if (command.kind === 'help') {
      stdout.write(USAGE);
      return 0;
    }
    if (command.kind === 'version') {
      stdout.write(`${starterVersion()}\n`);
      return 0;
    }
    const cwd = io.cwd ?? process.cwd();
    const env = io.env ?? process.env;
    const template = findTemplate(command.template);
    const target = path.resolve(cwd, command.directory);
    const name = appNameFor(target);
    const version = starterVersion();
    const packagesDir = env.BLUEPRINT_PACKAGES_DIR;
    const sources =
      packagesDir === undefined || packagesDir === ''
        ? undefined
        : localTarballs(packagesDir, template.blueprintPackages, version);
    await ensureEmptyDirectory(target, command.directory);

    const files = await writeTemplate(template, target, name);
    const manifest = appManifest({ name, template, version, ...(sources === undefined ? {} : { sources }) });
    await writeFile(path.join(target, 'package.json'), `${JSON.stringify(manifest, null, '\t')}\n`);
    stdout.write(
      `Created ${name} in ${target} from the ${template.name} template (${files.length + 1} files)${sources === undefined ? '' : `, with the Blueprint packages of ${packagesDir}`}.\n`,
    );

    if (command.install) {
      stdout.write('Installing dependencies with npm install...\n');
      const code = await (io.install ?? ((dir: string) => npmInstall(dir, env)))(target);
      if (code !== 0) {
        throw new CreateAppError(
          'CREATE_APP_INSTALL_FAILED',
          `npm install failed (exit code ${code}) in ${target}; the files are written: fix the problem npm printed above, then run \`npm install\` there`,
        );
      }
    }

    const commands = [
      ...(target === path.resolve(cwd) ? [] : [`cd ${shellQuote(path.relative(cwd, target) || '.')}`]),
      ...(command.install ? [] : ['npm install']),
      'npm start',
    ];
    stdout.write(`\nDone. Now run:\n\n${commands.map((line) => `  ${line}\n`).join('')}\n`);
    stdout.write(
      '`npm test` runs the scenario against both topologies; `npm run start:split` runs the app as separate processes (README.md says what each file is).\n',
    );
    return 0;
  } catch (error) {
    if (!isCreateAppError(error)) throw error;
    stderr.write(`create-app: ${error.message}\n`);
    if (error.code === 'CREATE_APP_USAGE')
      stderr.write('Run "npm create @blueprint/app -- --help" for usage.\n');
    return error.exitCode;
  }
}

async function ensureEmptyDirectory(target: string, given: string): Promise<void> {
  if (!existsSync(target)) {
    await mkdir(target, { recursive: true });
    return;
  }
  let entries: string[];
  try {
    entries = await readdir(target);
  } catch (error) {
    throw new CreateAppError(
      'CREATE_APP_TARGET_NOT_EMPTY',
      `${given} exists and is not a directory; pick another name`,
      { cause: error },
    );
  }
  const present = entries.filter((entry) => !ALLOWED_IN_TARGET.has(entry));
  if (present.length > 0) {
    const shown =
      present.slice(0, 3).join(', ') + (present.length > 3 ? `, and ${present.length - 3} more` : '');
    throw new CreateAppError(
      'CREATE_APP_TARGET_NOT_EMPTY',
      `${given} is not empty (it has ${shown}); pick a new directory name, or empty it first`,
    );
  }
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}
