import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../../../test/harness/failures.js';
import { hasErrorCode } from '../errors.js';
import { loadApp, readRawTopology } from './load-app.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'blueprint-load-app-'));
  await writeFile(
    path.join(dir, 'app.mjs'),
    "export default { name: 'plain', services: [], providers: [], plugins: [] };\n",
  );
  await writeFile(path.join(dir, 'other.mjs'), 'export const helper = 1;\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function topologyFile(content: string): Promise<string> {
  const file = path.join(dir, `t-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, content);
  return file;
}

const failure = (promise: Promise<unknown>) => rejectionOf(promise, 'expected a failure');

describe('loadApp', () => {
  it('imports the module named by `app`, relative to the topology, with env interpolation', async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the topology's own ${VAR:-default} syntax
    const file = await topologyFile('{ "app": "./${APP_MODULE:-app}.mjs", "processes": {} }');
    const loaded = await loadApp(readRawTopology(file), { env: {} });
    expect(loaded.app.name).toBe('plain');
    expect(loaded.entry).toBe(path.join(dir, 'app.mjs'));
  });

  it('says which module exports no app, and what it exports', async () => {
    const file = await topologyFile('{ "app": "other.mjs" }');
    const error = await failure(loadApp(readRawTopology(file)));
    expect(hasErrorCode(error, 'APP_INVALID')).toBe(true);
    expect(error.message).toContain(
      `${path.join(dir, 'other.mjs')} (topology.app of ${file}) exports no app`,
    );
    expect(error.message).toContain('its exports are: helper');
  });

  it('names topology.app when it is missing or points nowhere', async () => {
    const missingKey = await topologyFile('{ "processes": {} }');
    const noKey = await failure(loadApp(readRawTopology(missingKey)));
    expect(noKey.code).toBe('TOPOLOGY_INVALID');
    expect(noKey.message).toContain(`invalid topology ${missingKey}:\n  - topology.app: missing;`);

    const wrongPath = await topologyFile('{ "app": "src/nope.ts" }');
    const nowhere = await failure(loadApp(readRawTopology(wrongPath)));
    expect(nowhere.message).toContain(`module ${path.join(dir, 'src', 'nope.ts')} does not exist`);
  });

  it('names the file when it cannot be read or is not a JSON object', async () => {
    const absent = path.join(dir, 'absent.json');
    expect(() => readRawTopology(absent)).toThrow(`cannot read topology file ${absent}`);
    const list = await topologyFile('[1, 2]');
    expect(() => readRawTopology(list)).toThrow(
      `invalid topology ${list}:\n  - topology: expected a JSON object`,
    );
    const broken = await topologyFile('{ "app": ');
    expect(() => readRawTopology(broken)).toThrow(`topology ${broken} is not valid JSON`);
  });

  it('refuses an app module Node would load as CommonJS, naming the package.json and the fix', async () => {
    const cjs = path.join(dir, 'cjs-app');
    await mkdir(cjs, { recursive: true });
    await writeFile(path.join(cjs, 'package.json'), '{ "name": "my-app", "type": "commonjs" }\n');
    await writeFile(
      path.join(cjs, 'app.js'),
      "export default { name: 'plain', services: [], providers: [], plugins: [] };\n",
    );
    await writeFile(path.join(cjs, 'topology.json'), '{ "app": "app.js" }');
    const error = await failure(loadApp(readRawTopology(path.join(cjs, 'topology.json'))));
    expect(hasErrorCode(error, 'APP_INVALID')).toBe(true);
    expect(error.message).toContain(
      `${path.join(cjs, 'app.js')} (topology.app of ${path.join(cjs, 'topology.json')}) would load as CommonJS`,
    );
    expect(error.message).toContain(`${path.join(cjs, 'package.json')} has "type": "commonjs"`);
    expect(error.message).toContain('set "type": "module"');

    await writeFile(path.join(cjs, 'package.json'), '{ "name": "my-app", "type": "module" }\n');
    const loaded = await loadApp(readRawTopology(path.join(cjs, 'topology.json')));
    expect(loaded.app.name).toBe('plain');
  });
});
