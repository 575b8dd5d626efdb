/**
 * The templates a new app starts from, and how their files are written: `templates/common/` first, then
 * `templates/<name>/` over it. Files named `_gitignore` and `_biome.json` become `.gitignore` and
 * `biome.json` (npm would drop a `.gitignore` from the package, and a `biome.json` inside this package
 * would configure Biome for the Blueprint repository). `__APP_NAME__` in a file becomes the app's name.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateAppError } from './errors.js';

/** A template: what `--template NAME` writes. */
export interface Template {
  /** The name given to `--template`. */
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /** The Blueprint packages the app depends on, e.g. `['core', 'events', 'cache', 'http']`. */
  readonly blueprintPackages: readonly string[];
}

/** The templates, the default first. */
export const TEMPLATES: readonly Template[] = Object.freeze([
  {
    name: 'minimal',
    description: 'users, a mailer and a web API: one contract call, one event, one cached read',
    blueprintPackages: ['core', 'events', 'cache', 'http'],
  },
  {
    name: 'shop',
    description: 'products, orders and payments: events both ways, cached reads, a gateway',
    blueprintPackages: ['core', 'events', 'cache', 'http'],
  },
]);

/** The template `--template` falls back to. */
export const DEFAULT_TEMPLATE = 'minimal';

/** The placeholder replaced by the app's name. */
export const APP_NAME_PLACEHOLDER = '__APP_NAME__';

const RENAMED: Readonly<Record<string, string>> = { _gitignore: '.gitignore', '_biome.json': 'biome.json' };
const TEXT_FILE = /\.(?:ts|json|md)$|^\.gitignore$/;

/** The folder holding the templates (beside `dist/` and `src/`). */
export const TEMPLATES_DIR = fileURLToPath(new URL('../templates/', import.meta.url));

/** The template called `name`; an unknown name is a {@link CreateAppError} listing the known ones. */
export function findTemplate(name: string): Template {
  const template = TEMPLATES.find((candidate) => candidate.name === name);
  if (template === undefined) {
    throw new CreateAppError(
      'CREATE_APP_UNKNOWN_TEMPLATE',
      `unknown template "${name}"; use ${TEMPLATES.map((t) => `--template ${t.name}`).join(' or ')}`,
    );
  }
  return template;
}

/** Writes the files of `template` into `target` (which exists and is empty). Returns their paths, relative. */
export async function writeTemplate(
  template: Template,
  target: string,
  appName: string,
  templatesDir: string = TEMPLATES_DIR,
): Promise<string[]> {
  const files = new Map<string, string>();
  for (const layer of ['common', template.name]) {
    const root = path.join(templatesDir, layer);
    if (!existsSync(root)) continue;
    for (const file of await listFiles(root)) files.set(outputPath(file), path.join(root, file));
  }
  for (const [relative, source] of files) {
    const destination = path.join(target, relative);
    await mkdir(path.dirname(destination), { recursive: true });
    const content = await readFile(source);
    await writeFile(
      destination,
      TEXT_FILE.test(path.basename(relative))
        ? content.toString('utf8').replaceAll(APP_NAME_PLACEHOLDER, appName)
        : content,
    );
  }
  return [...files.keys()].sort();
}

function outputPath(relative: string): string {
  const base = path.basename(relative);
  const renamed = RENAMED[base];
  return renamed === undefined ? relative : path.join(path.dirname(relative), renamed);
}

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(root, prefix), { withFileTypes: true })) {
    const relative = path.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(root, relative)));
    else if (entry.isFile()) out.push(relative);
  }
  return out;
}
