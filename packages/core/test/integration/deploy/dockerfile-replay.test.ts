/**
 * The exported Dockerfile, replayed outside a container: the shop as a user's app (its own folder and
 * lockfile, Blueprint from the packed tarballs), each stage in a folder (`npm ci --omit=dev` in an
 * empty one, the build stage, the final stage copying both), then the image's command, run with the
 * environment and the topology compose.yaml gives the service. It becomes ready by the healthcheck
 * Compose would run, serves the shop's HTTP API, and stops with exit code 0 on SIGTERM.
 *
 * What a container would add is not proved here: the base image, the `node` user's permissions and a
 * read-only root filesystem. Container paths are mapped to folders: `/app` to the final stage's folder,
 * `/etc/blueprint` to a folder holding the Compose config, and the ports to free ones.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { getFreePort, waitFor } from '../../../../../test/harness/index.js';
import {
  exec,
  npmEnv,
  type PackedWorkspace,
  packWorkspace,
} from '../../../../../test/pack/pack-workspace.js';
import { parseDockerfile, replayDockerfile } from './dockerfile-replay.js';
import { renderGolden, repositoryRoot } from './golden-exports.js';

const shop = path.join(repositoryRoot, 'examples/shop');
const monolith = {
  example: 'examples/shop',
  topology: 'topology/monolith.json',
  variant: 'monolith',
} as const;
const scratch: string[] = [];
let packed: PackedWorkspace | undefined;

afterAll(async () => {
  await packed?.remove();
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

/** The shop's folder as a user has it: sources, topologies, its own tsconfig and lockfile. */
async function userApp(dir: string, tarballs: Readonly<Record<string, string>>): Promise<void> {
  await cp(path.join(shop, 'src'), path.join(dir, 'src'), { recursive: true });
  await cp(path.join(shop, 'topology'), path.join(dir, 'topology'), { recursive: true });
  const manifest = JSON.parse(readFileSync(path.join(shop, 'package.json'), 'utf8'));
  for (const name of Object.keys(manifest.dependencies)) {
    if (tarballs[name] !== undefined) manifest.dependencies[name] = `file:${tarballs[name]}`;
  }
  await writeFile(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  const base = JSON.parse(readFileSync(path.join(repositoryRoot, 'tsconfig.base.json'), 'utf8'));
  await writeFile(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { ...base.compilerOptions, noEmit: true }, include: ['src'] }),
  );
  // What the ignore file keeps out of the image: installed modules and local data.
  await mkdir(path.join(dir, 'node_modules', 'left-behind'), { recursive: true });
  await mkdir(path.join(dir, '.data', 'shop-monolith'), { recursive: true });
  await writeFile(path.join(dir, '.data', 'shop-monolith', 'products.db'), 'not for the image');
  await exec('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], dir);
}

describe('the exported Dockerfile, replayed', () => {
  it('builds the shop without dev dependencies and runs it ready to serve', {
    timeout: 900_000,
  }, async () => {
    packed = await packWorkspace();
    const work = await mkdtemp(path.join(tmpdir(), 'blueprint-image-'));
    scratch.push(work);
    const context = path.join(work, 'context');
    await userApp(context, packed.tarballs);

    const image = await renderGolden({ ...monolith, target: 'dockerfile' });
    const ignore = image['Dockerfile.dockerignore']!.split('\n').filter(
      (line) => line !== '' && !line.startsWith('#'),
    );
    const final = await replayDockerfile(parseDockerfile(image.Dockerfile!), {
      context,
      ignore,
      work,
      env: npmEnv,
    });
    expect(final.ran).toContain('npm ci --omit=dev --no-audit --no-fund');
    expect(final.user).toBe('node');
    expect(final.env.NODE_ENV).toBe('production');
    const modules = path.join(final.dir, 'node_modules');
    // The native addon was compiled in the deps stage; the dev dependency and the context's modules stayed out.
    expect(existsSync(path.join(modules, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))).toBe(
      true,
    );
    expect(existsSync(path.join(modules, '@types', 'better-sqlite3'))).toBe(false);
    expect(existsSync(path.join(modules, 'left-behind'))).toBe(false);
    expect(existsSync(path.join(final.dir, '.data', 'shop-monolith', 'products.db'))).toBe(false);

    // Run the image's command as Compose would start the service.
    const compose = parse((await renderGolden({ ...monolith, target: 'compose' }))['compose.yaml']!);
    const service = compose.services.main;
    const mounted = path.join(work, 'etc-blueprint');
    await mkdir(mounted);
    const topology = (compose.configs.topology.content as string)
      .replaceAll('$$', '$')
      .replaceAll('"/app/', `"${final.dir}/`);
    await writeFile(path.join(mounted, 'topology.json'), topology);
    const [port, adminPort] = [await getFreePort(), await getFreePort()];
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...final.env,
      ...service.environment,
      BLUEPRINT_TOPOLOGY: service.environment.BLUEPRINT_TOPOLOGY.replace('/etc/blueprint', mounted),
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
    };
    expect(service.environment.BLUEPRINT_PROCESS).toBe('main');
    const [program, ...args] = final.entrypoint;
    expect(program).toBe('node');
    const child = spawn(process.execPath, args, { cwd: final.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const [, , flag, script] = service.healthcheck.test as string[];
      const probe = (script as string).replace(/:\d+\//, `:${adminPort}/`);
      await waitFor(
        async () =>
          exec(process.execPath, [flag!, probe], final.dir, { env, timeout: 5_000 }).then(
            () => true,
            () => false,
          ),
        { timeout: 60_000, interval: 250, message: `the healthcheck to pass; output:\n${output}` },
      );
      const products = await fetch(`http://127.0.0.1:${port}/products`);
      expect(products.status).toBe(200);
      const list = (await products.json()) as unknown[];
      expect(list.length).toBeGreaterThan(0);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, output).toBe(0);
    expect(output).toMatch(/blueprint: stopped process=main/);
  });
});
