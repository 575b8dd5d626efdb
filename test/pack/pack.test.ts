/**
 * The packages as users get them: build, `npm pack` every publishable package, install the tarballs
 * into a fresh app outside the workspace, and run it. A file missing from a tarball, a wrong export
 * map or a broken bin fails here, not for a user.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exec, npmEnv, packWorkspace, publishablePackages, rootManifest } from './pack-workspace.js';

/** The libraries: the publishable packages with an export map (`@blueprint/create-app` only has a bin). */
const packages = publishablePackages.filter((pkg) => pkg.manifest.exports !== undefined);

const CHECK_SCRIPT = `
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const names = JSON.parse(process.argv[2]);
const report = { entries: {}, problems: [] };
for (const name of names) {
  const dir = path.join('node_modules', name);
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  if (manifest.exports === undefined) report.problems.push(name + ': no "exports" map');
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (target === null || subpath.includes('*') || subpath === './package.json') continue;
    const targets = typeof target === 'string' ? { default: target } : target;
    for (const [condition, file] of Object.entries(targets)) {
      if (!existsSync(path.join(dir, file))) {
        report.problems.push(name + ' exports ' + subpath + ' (' + condition + '): ' + file + ' is not in the tarball');
      }
    }
    const specifier = name + subpath.slice(1);
    try {
      report.entries[specifier] = Object.keys(await import(specifier)).length;
    } catch (error) {
      report.problems.push('import("' + specifier + '") failed: ' + error.message);
    }
  }
}

const core = await import('@blueprint/core');
try {
  await import('@blueprint/core/internal/x');
  report.internal = 'importable';
} catch (error) {
  report.internal = error.code;
}

const Clock = core.defineService('clock', {
  shift: { input: z.object({ at: z.date(), days: z.number().int() }), output: z.object({ at: z.date() }) },
});
class ClockService {
  async shift({ at, days }) {
    return { at: new Date(at.getTime() + days * 86_400_000) };
  }
}
const app = core.defineApp({ name: 'packed', services: [core.service(Clock, ClockService)] });
const process1 = await core.createApp(app, {
  topology: { app: 'unused', rpc: { type: 'local', serialize: true }, processes: { main: { services: ['clock'] } } },
});
await process1.start();
const shifted = await process1.client(Clock).shift({ at: new Date('2024-01-01T00:00:00Z'), days: 2 });
const invalid = await process1.client(Clock).shift({ at: 'yesterday', days: 1 }).catch((error) => error.code);
await process1.stop();
report.call = { at: shifted.at instanceof Date ? shifted.at.toISOString() : shifted.at, invalid };
console.log(JSON.stringify(report));
`;

const TYPESCRIPT_APP = `
import { type ClientOf, defineApp, defineService, type ImplementationOf, inject, injectable, service } from '@blueprint/core';
import { z } from 'zod';

const Greeter = defineService('greeter', {
  hello: { input: z.object({ name: z.string() }), output: z.string() },
});
const Front = defineService('front', {});

@injectable()
class GreeterService implements ImplementationOf<typeof Greeter> {
  async hello({ name }: { name: string }) {
    return \`hello \${name}\`;
  }
}

@injectable()
class FrontService implements ImplementationOf<typeof Front> {
  constructor(@inject(Greeter.token) private readonly greeter: ClientOf<typeof Greeter>) {}
  async onStart() {
    console.log('front says:', await this.greeter.hello({ name: 'packed' }));
  }
}

export const app = defineApp({ name: 'packed-ts', services: [service(Greeter, GreeterService), service(Front, FrontService)] });
`;

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('packed packages', () => {
  it('install from their tarballs into a fresh app and work there', { timeout: 240_000 }, async () => {
    expect(packages.map((pkg) => pkg.manifest.name)).toContain('@blueprint/core');
    const packed = await packWorkspace();
    const appDir = await mkdtemp(path.join(tmpdir(), 'blueprint-packed-app-'));
    scratch.push(packed.dir, appDir);
    expect(Object.keys(packed.tarballs).sort()).toEqual(
      publishablePackages.map((pkg) => pkg.manifest.name).sort(),
    );
    const files = packages.map((pkg) => packed.tarballs[pkg.manifest.name]!);

    const zod = packages.find((pkg) => pkg.manifest.name === '@blueprint/core')!.manifest.dependencies!.zod!;
    // The `testing` entries export vitest suites: a user who imports them has vitest. Optional peers such
    // as ioredis and nats are NOT installed, so an entry that imports one eagerly fails here.
    const vitest = rootManifest.devDependencies.vitest!;
    await writeFile(
      path.join(appDir, 'package.json'),
      JSON.stringify({ name: 'packed-app', private: true, type: 'module' }, null, 2),
    );
    await exec(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', ...files, `zod@${zod}`, `vitest@${vitest}`],
      appDir,
    );

    await writeFile(path.join(appDir, 'check.mjs'), CHECK_SCRIPT);
    const names = packages.map((pkg) => pkg.manifest.name);
    const checked = await exec('node', ['check.mjs', JSON.stringify(names)], appDir);
    const report = JSON.parse(checked.stdout) as {
      entries: Record<string, number>;
      problems: string[];
      internal: string;
      call: { at: string; invalid: string };
    };
    expect(report.problems).toEqual([]);
    for (const name of names) expect(Object.keys(report.entries)).toContain(name);
    expect(report.entries['@blueprint/core']).toBeGreaterThan(10);
    expect(report.internal).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    expect(report.call).toEqual({ at: '2024-01-03T00:00:00.000Z', invalid: 'VALIDATION_FAILED' });

    const bin = path.join(appDir, 'node_modules', '.bin', 'blueprint');
    const help = await exec(bin, ['--help'], appDir);
    expect(help.stdout).toContain('blueprint start --topology FILE');

    // A user's TypeScript app with decorators, started by the installed CLI without a build step.
    await mkdir(path.join(appDir, 'src'));
    await writeFile(path.join(appDir, 'src', 'app.ts'), TYPESCRIPT_APP);
    await writeFile(
      path.join(appDir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { experimentalDecorators: true, strict: true, module: 'NodeNext' } }),
    );
    await writeFile(
      path.join(appDir, 'topology.json'),
      JSON.stringify({ app: 'src/app.ts', processes: { main: { services: ['greeter', 'front'] } } }),
    );
    const started = spawn(bin, ['start', '--topology', 'topology.json'], { cwd: appDir, env: npmEnv });
    let output = '';
    let signalled = false;
    started.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (!signalled && output.includes('blueprint: ready')) signalled = started.kill('SIGTERM');
    });
    started.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const code = await new Promise<number | null>((resolve) => started.on('close', resolve));
    expect(output).toContain('front says: hello packed');
    expect(output).toMatch(/blueprint: ready process=main app=packed-ts/);
    expect(code).toBe(0);
  });
});
