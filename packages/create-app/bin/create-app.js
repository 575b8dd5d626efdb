#!/usr/bin/env node
/**
 * Launcher of `npm create @blueprint/app` (npm runs the bin of `@blueprint/create-app`). It is committed
 * as plain JavaScript and loads the compiled CLI from `dist/main.js`; inside the Blueprint repository
 * without a build it runs the TypeScript sources through tsx instead.
 */
import { existsSync } from 'node:fs';

const dist = new URL('../dist/main.js', import.meta.url);
const source = new URL('../src/main.ts', import.meta.url);
const fromSource = !existsSync(dist) && existsSync(source);
if (fromSource) {
  const { register } = await import('tsx/esm/api');
  register();
}
const { runCreateApp } = await import((fromSource ? source : dist).href);
process.exitCode = await runCreateApp(process.argv.slice(2));
