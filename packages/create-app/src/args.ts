/**
 * The command line of `create-app`: one directory, `--template NAME`, `--no-install`, `--help`. No
 * questions are asked: everything is on the command line, so scripts and CI can run it.
 */
import { parseArgs } from 'node:util';
import { CreateAppError } from './errors.js';
import { DEFAULT_TEMPLATE, TEMPLATES } from './templates.js';

/** What the command line asks for. */
export type CreateAppCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | {
      readonly kind: 'create';
      /** The directory to create, as given. */
      readonly directory: string;
      /** The template name (checked later). */
      readonly template: string;
      /** Run `npm install` in the new app. */
      readonly install: boolean;
    };

/** How to call it; printed by `--help` and after a usage error. */
export const USAGE = `Create a Blueprint app.

Usage:
  npm create @blueprint/app <directory> [-- --template NAME] [--no-install]
  npx @blueprint/create-app <directory> [--template NAME] [--no-install]

Options:
  -t, --template NAME   the app to start from (default: ${DEFAULT_TEMPLATE}):
${TEMPLATES.map((t) => `                          ${t.name.padEnd(8)} ${t.description}`).join('\n')}
      --no-install      write the files only; run \`npm install\` yourself
  -h, --help            this text
  -v, --version         the version of @blueprint/create-app

Environment:
  BLUEPRINT_PACKAGES_DIR  a folder of packed Blueprint tarballs (npm pack): the app depends on
                          them (file: paths) instead of the registry versions

The directory must not exist or be empty. The app's name is the directory's name.
`;

/** Parses the arguments after the program name. A bad command line is a `CREATE_APP_USAGE` error. */
export function parseCommand(argv: readonly string[]): CreateAppCommand {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new CreateAppError('CREATE_APP_USAGE', (error as Error).message, { cause: error });
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  if (positionals.length === 0) {
    throw new CreateAppError(
      'CREATE_APP_USAGE',
      'name the directory of the new app, e.g. `npm create @blueprint/app my-app`',
    );
  }
  if (positionals.length > 1) {
    throw new CreateAppError(
      'CREATE_APP_USAGE',
      `one directory only, got ${positionals.length}: ${positionals.map((p) => JSON.stringify(p)).join(' ')}`,
    );
  }
  return {
    kind: 'create',
    directory: positionals[0]!,
    template: values.template ?? DEFAULT_TEMPLATE,
    install: !values['no-install'],
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      template: { type: 'string', short: 't' },
      'no-install': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
}
