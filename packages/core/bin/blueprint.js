#!/usr/bin/env node
/**
 * Launcher of the `blueprint` CLI. npm links bins before `dist/` is built, so this file is committed
 * as plain JavaScript and loads the compiled CLI from `dist/cli/main.js`.
 *
 * Inside the Blueprint repository without a build (or with `BLUEPRINT_CLI_SOURCE=1`), it runs the
 * TypeScript sources through tsx instead, and resolves `@blueprint/*` packages to their `source`
 * export condition so the app and the CLI share one copy of core.
 */
import { existsSync } from 'node:fs';
import module, { register } from 'node:module';

// Node 22.1+ keeps compiled modules on disk between runs (a faster start); older Nodes lack the call.
module.enableCompileCache?.();

const dist = new URL('../dist/cli/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);
const fromSource = existsSync(source) && (process.env.BLUEPRINT_CLI_SOURCE === '1' || !existsSync(dist));

const SOURCE_CONDITION_HOOK = `export async function resolve(specifier, context, next) {
  if (!specifier.startsWith('@blueprint/') || context.conditions.includes('source')) return next(specifier, context);
  return next(specifier, { ...context, conditions: ['source', ...context.conditions] });
}`;

if (fromSource) {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  register(`data:text/javascript,${encodeURIComponent(SOURCE_CONDITION_HOOK)}`);
}
const { runCli } = await import((fromSource ? source : dist).href);
process.exit(await runCli(process.argv.slice(2), { typescriptRegistered: fromSource }));
