import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCreateApp } from './main.js';

const scratch: string[] = [];
afterEach(async () => {
  await Promise.all(scratch.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function run(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; install?: (dir: string) => Promise<number> } = {},
) {
  const cwd = await mkdtemp(path.join(tmpdir(), 'create-app-'));
  scratch.push(cwd);
  let stdout = '';
  let stderr = '';
  const installed: string[] = [];
  const code = await runCreateApp(argv, {
    cwd,
    env: options.env ?? {},
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    install: async (dir) => {
      installed.push(dir);
      return options.install === undefined ? 0 : options.install(dir);
    },
  });
  return { code, stdout, stderr, cwd, installed };
}

async function listTree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const relative = path.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...(await listTree(dir, relative)));
    else out.push(relative);
  }
  return out.sort();
}

describe('runCreateApp', () => {
  it('writes the minimal app, installs it, and prints the two commands to run it', async () => {
    const { code, stdout, stderr, cwd, installed } = await run(['my-app']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const app = path.join(cwd, 'my-app');
    expect(installed).toEqual([app]);
    expect(await listTree(app)).toEqual([
      '.gitignore',
      'README.md',
      'biome.json',
      'package.json',
      'src/app.ts',
      'src/existing.ts',
      'src/http-api.ts',
      'src/id.ts',
      'src/mailer/contract.ts',
      'src/mailer/service.ts',
      'src/users/contract.ts',
      'src/users/service.ts',
      'src/web/contract.ts',
      'src/web/routes.ts',
      'src/web/service.ts',
      'test/app.test.ts',
      'test/http.ts',
      'test/redis.ts',
      'test/topologies.ts',
      'topology/monolith.json',
      'topology/split.json',
      'tsconfig.json',
    ]);
    expect(await readFile(path.join(app, 'src/app.ts'), 'utf8')).toContain('name: "my-app"');
    const manifest = JSON.parse(await readFile(path.join(app, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'my-app', type: 'module' });
    const tsconfig = JSON.parse(await readFile(path.join(app, 'tsconfig.json'), 'utf8'));
    expect(tsconfig.compilerOptions).toMatchObject({
      experimentalDecorators: true,
      module: 'NodeNext',
      strict: true,
    });
    expect(stdout).toContain('Now run:\n\n  cd my-app\n  npm start\n\n');
    expect(stdout).toContain('`npm test`');
    expect(stdout).toContain('`npm run start:split`');
  });

  it('writes the shop with --template shop, and leaves the install out with --no-install', async () => {
    const { code, stdout, cwd, installed } = await run([
      '--template',
      'shop',
      'apps/My Shop',
      '--no-install',
    ]);
    expect(code).toBe(0);
    expect(installed).toEqual([]);
    const app = path.join(cwd, 'apps/My Shop');
    expect(await listTree(app)).toContain('src/orders/service.ts');
    expect(JSON.parse(await readFile(path.join(app, 'package.json'), 'utf8')).name).toBe('my-shop');
    expect(stdout).toContain("  cd 'apps/My Shop'\n  npm install\n  npm start\n");
  });

  it('depends on the tarballs of BLUEPRINT_PACKAGES_DIR', async () => {
    const packs = await mkdtemp(path.join(tmpdir(), 'create-app-packs-'));
    scratch.push(packs);
    for (const name of ['core', 'events', 'cache', 'http'])
      await writeFile(path.join(packs, `blueprint-${name}-0.1.0.tgz`), '');
    const { code, cwd } = await run(['x', '--no-install'], { env: { BLUEPRINT_PACKAGES_DIR: packs } });
    expect(code).toBe(0);
    const manifest = JSON.parse(await readFile(path.join(cwd, 'x', 'package.json'), 'utf8'));
    expect(manifest.dependencies['@blueprint/core']).toBe(
      `file:${path.join(packs, 'blueprint-core-0.1.0.tgz')}`,
    );
    expect(manifest.dependencies['@blueprint/cache']).toBe(
      `file:${path.join(packs, 'blueprint-cache-0.1.0.tgz')}`,
    );
    expect(manifest.dependencies['@blueprint/http']).toBe(
      `file:${path.join(packs, 'blueprint-http-0.1.0.tgz')}`,
    );
  });

  it('refuses a non-empty directory and writes nothing into it', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'create-app-'));
    scratch.push(cwd);
    await mkdir(path.join(cwd, 'taken'));
    await writeFile(path.join(cwd, 'taken', 'notes.txt'), 'mine');
    let stderr = '';
    const code = await runCreateApp(['taken'], {
      cwd,
      env: {},
      stdout: { write: () => true },
      stderr: { write: (text: string) => (stderr += text) },
      install: async () => 0,
    });
    expect(code).toBe(1);
    expect(stderr).toBe(
      'create-app: taken is not empty (it has notes.txt); pick a new directory name, or empty it first\n',
    );
    expect(await readdir(path.join(cwd, 'taken'))).toEqual(['notes.txt']);
  });

  it('takes an empty directory, or one with only .git', async () => {
    const { code, cwd } = await run(['--help']);
    expect(code).toBe(0);
    await mkdir(path.join(cwd, 'repo', '.git'), { recursive: true });
    const result = await runCreateApp(['repo', '--no-install'], {
      cwd,
      env: {},
      stdout: { write: () => true },
      stderr: { write: () => true },
    });
    expect(result).toBe(0);
    expect(existsSync(path.join(cwd, 'repo', 'src', 'app.ts'))).toBe(true);
  });

  it('exits 2 with a clear message for an unknown template or a missing name', async () => {
    const unknown = await run(['x', '--template', 'blog']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      'create-app: unknown template "blog"; use --template minimal or --template shop\n',
    );
    expect(existsSync(path.join(unknown.cwd, 'x'))).toBe(false);
    const missing = await run([]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('create-app: name the directory of the new app');
    expect(missing.stderr).toContain('--help');
  });

  it('prints usage with --help, naming the templates and BLUEPRINT_PACKAGES_DIR', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('npm create @blueprint/app <directory>');
    expect(stdout).toMatch(/minimal +users, a mailer and a web API/);
    expect(stdout).toMatch(/shop +products, orders and payments/);
    expect(stdout).toContain('BLUEPRINT_PACKAGES_DIR');
  });

  it('reports a failed install with the folder and exit code 1', async () => {
    const { code, stderr, cwd } = await run(['x'], { install: async () => 7 });
    expect(code).toBe(1);
    expect(stderr).toContain(`create-app: npm install failed (exit code 7) in ${path.join(cwd, 'x')}`);
  });
});
