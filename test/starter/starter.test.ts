/**
 * `npm create @blueprint/app` as a user runs it: the packages are packed once, the starter's own tarball
 * runs (`npm exec`, as `npm create` does) in an empty folder outside the workspace with
 * `BLUEPRINT_PACKAGES_DIR` pointing at the tarballs, for each template. In each generated app its own
 * `npm test` passes (both topologies: the integration setup provides the Redis of the split one), `tsc`
 * and Biome find nothing, and `npm start` reports ready, serves HTTP and exits 0 on SIGTERM — on the
 * running Node, then again on Node 24 (the registry's `node@24` package; the apps installed on the
 * running Node are reused, `tsc` and Biome are not run twice).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFreePort, waitFor } from '../harness/index.js';
import {
  exec,
  npmEnv,
  type PackedWorkspace,
  packWorkspace,
  repositoryRoot,
  rootManifest,
} from '../pack/pack-workspace.js';
import { node24BinDir } from './node24.js';
import { runScript } from './run-app.js';

const TEMPLATES = ['minimal', 'shop'] as const;
type TemplateName = (typeof TEMPLATES)[number];
const BLUEPRINT_PACKAGES = ['@blueprint/cache', '@blueprint/core', '@blueprint/events', '@blueprint/http'];
const BIOME = path.join(repositoryRoot, 'node_modules', '.bin', 'biome');

/**
 * The environment of the generated app's commands: no npm_* variables of the enclosing run, CI set so
 * that a missing Redis fails the split run instead of skipping it, and npm told to use its cache.
 */
const appEnv: NodeJS.ProcessEnv = {
  ...npmEnv,
  CI: npmEnv.CI || 'true',
  NO_COLOR: '1',
  npm_config_prefer_offline: 'true',
  npm_config_update_notifier: 'false',
};

let packed: PackedWorkspace | undefined;
let node24: Promise<string> | undefined;
const scratch: string[] = [];
const apps = new Map<TemplateName, string>();
const timings: string[] = [];

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings.push(`${label}: ${((performance.now() - started) / 1000).toFixed(1)}s`);
  }
}

beforeAll(async () => {
  // The Node 24 download runs while the packages are built and the first app is installed.
  node24 = timed('node 24: install node@24 (in the background)', () => node24BinDir());
  node24.catch(() => undefined);
  packed = await timed('build and pack', () => packWorkspace());
  scratch.push(packed.dir);
}, 300_000);

afterAll(async () => {
  console.log(`starter test timings:\n  ${timings.join('\n  ')}`);
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.json() };
}

const post = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** What a user does with a running app of each template, over its HTTP API. */
const TRY_IT: Record<TemplateName, (base: string) => Promise<void>> = {
  async minimal(base) {
    const created = await json(`${base}/users`, post({ name: 'Ada', email: 'ada@example.com' }));
    expect(created).toMatchObject({ status: 201, body: { name: 'Ada', email: 'ada@example.com' } });
    expect(await json(`${base}/users/${created.body.id}`)).toEqual({ status: 200, body: created.body });
    await waitFor(async () => (await json(`${base}/users/${created.body.id}/emails`)).body.length === 1, {
      timeout: 10_000,
      message: 'the welcome email',
    });
    expect(await json(`${base}/users/nobody`)).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    });
    const openapi = await json(`${base}/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(Object.keys(openapi.body.paths)).toEqual(['/users', '/users/{id}', '/users/{userId}/emails']);
  },
  async shop(base) {
    const catalog = await json(`${base}/products`);
    expect(catalog.status).toBe(200);
    expect(catalog.body.map((product: { id: string }) => product.id)).toContain('p-keyboard');
    const order = await json(`${base}/orders`, post({ productId: 'p-keyboard', quantity: 2 }));
    expect(order).toMatchObject({ status: 201, body: { productId: 'p-keyboard', quantity: 2 } });
    await waitFor(async () => (await json(`${base}/orders/${order.body.id}`)).body.status === 'paid', {
      timeout: 10_000,
      message: 'the order to be paid',
    });
    expect(await json(`${base}/orders/${order.body.id}/payment`)).toMatchObject({
      status: 200,
      body: { orderId: order.body.id, status: 'succeeded' },
    });
  },
};

/** `npm start` in `app`: ready line, the template's HTTP tour, then SIGTERM and a clean exit. */
async function startAndStop(template: TemplateName, app: string, env: NodeJS.ProcessEnv): Promise<void> {
  const port = await getFreePort();
  const started = runScript('start', app, { ...env, PORT: String(port) });
  try {
    await started.waitFor(/blueprint: ready process=main app=my-app /);
    await TRY_IT[template](`http://127.0.0.1:${port}`);
  } finally {
    const exit = await started.stop();
    expect(exit, started.output()).toEqual({ code: 0, signal: null });
  }
  expect(started.output()).toMatch(/blueprint: stopped process=main/);
}

/**
 * `npm run start:split` in the minimal app: `blueprint dev` starts both processes (making up the
 * `SERVICE_SECRET` of their calls), the tour crosses them, and Ctrl-C stops both.
 */
async function startSplitAndInterrupt(app: string, env: NodeJS.ProcessEnv): Promise<void> {
  const [port, usersPort] = await Promise.all([getFreePort(), getFreePort()]);
  const started = runScript('start:split', app, {
    ...env,
    PORT: String(port),
    USERS_PORT: String(usersPort),
  });
  try {
    await started.waitFor(/\[dev\] +all 2 processes ready/);
    expect(started.output()).toMatch(
      /\[users\] blueprint: ready process=users .*rpc=http:\/\/127\.0\.0\.1:\d+/,
    );
    await TRY_IT.minimal(`http://127.0.0.1:${port}`);
  } finally {
    await started.interrupt();
  }
  expect(started.output()).toMatch(/\[dev\] +stopped\n/);
  expect(started.output()).toMatch(/\[users\] blueprint: stopped process=users/);
  expect(started.output()).toMatch(/\[web\] +blueprint: stopped process=web/);
}

describe('npm create @blueprint/app', () => {
  it.each(TEMPLATES)(
    'template %s: writes and installs an app whose npm test, tsc, Biome and npm start pass',
    { timeout: 600_000 },
    async (template) => {
      const parent = await mkdtemp(path.join(tmpdir(), `blueprint-starter-${template}-`));
      scratch.push(parent);
      const created = await timed(`${template}: create and npm install`, () =>
        exec(
          'npm',
          [
            'exec',
            '--yes',
            '--package',
            packed!.tarballs['@blueprint/create-app']!,
            '--',
            'create-app',
            'my-app',
            '--template',
            template,
          ],
          parent,
          { env: { ...appEnv, BLUEPRINT_PACKAGES_DIR: packed!.dir } },
        ),
      );
      expect(created.stdout).toContain('Now run:\n\n  cd my-app\n  npm start\n\n');
      const app = path.join(parent, 'my-app');
      apps.set(template, app);

      const manifest = JSON.parse(await readFile(path.join(app, 'package.json'), 'utf8'));
      expect(manifest).toMatchObject({ name: 'my-app', type: 'module' });
      for (const name of BLUEPRINT_PACKAGES) {
        expect(manifest.dependencies[name]).toBe(`file:${packed!.tarballs[name]}`);
      }
      // The HTTP API runs on Fastify, at the version the repository is tested with.
      expect(manifest.dependencies.fastify).toBe(rootManifest.devDependencies.fastify);

      const tested = await timed(`${template}: npm test`, () =>
        exec('npm', ['test', '--', '--reporter=verbose'], app, { env: appEnv }),
      );
      expect(tested.stdout).toMatch(/monolith/);
      expect(tested.stdout).toMatch(/split/);
      expect(tested.stdout).not.toMatch(/skipped/i);
      expect(tested.stdout).toMatch(/Tests +\d+ passed/);

      await timed(`${template}: tsc --noEmit`, () => exec('npx', ['tsc', '--noEmit'], app, { env: appEnv }));
      await timed(`${template}: biome check`, () => exec(BIOME, ['check', '.'], app, { env: appEnv }));
      await timed(`${template}: npm start`, () => startAndStop(template, app, appEnv));
      if (template === 'minimal') {
        await timed('minimal: npm run start:split', () => startSplitAndInterrupt(app, appEnv));
      }
    },
  );

  it.each(TEMPLATES)(
    'template %s on Node 24: npm test and npm start pass',
    { timeout: 600_000 },
    async (template) => {
      const app = apps.get(template);
      expect(app, `the ${template} app was not created (see the test above)`).toBeDefined();
      const binDir = await node24!;
      const env = { ...appEnv, PATH: `${binDir}${path.delimiter}${appEnv.PATH ?? ''}` };
      const version = await exec('node', ['--version'], app!, { env });
      expect(version.stdout.trim()).toMatch(/^v24\./);

      const tested = await timed(`node 24: ${template} npm test`, () =>
        exec('npm', ['test', '--', '--reporter=verbose'], app!, { env }),
      );
      expect(tested.stdout).toMatch(/split/);
      expect(tested.stdout).not.toMatch(/skipped/i);
      expect(tested.stdout).toMatch(/Tests +\d+ passed/);
      await timed(`node 24: ${template} npm start`, () => startAndStop(template, app!, env));
    },
  );
});
