import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import rootManifest from '../../../package.json' with { type: 'json' };
import coreManifest from '../../core/package.json' with { type: 'json' };
import {
  APP_SCRIPTS,
  appManifest,
  DEPENDENCY_VERSIONS,
  DEV_DEPENDENCY_VERSIONS,
  localTarballs,
  starterVersion,
} from './manifest.js';
import { findTemplate } from './templates.js';

const scratch: string[] = [];
afterEach(async () => {
  await Promise.all(scratch.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function folderWith(files: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'create-app-tarballs-'));
  scratch.push(dir);
  await Promise.all(files.map((file) => writeFile(path.join(dir, file), '')));
  return dir;
}

describe('appManifest', () => {
  it('is an ES module package with the scripts, the Blueprint packages at the starter version and the tools', () => {
    const manifest = appManifest({ name: 'my-app', template: findTemplate('minimal'), version: '0.1.0' });
    expect(manifest).toMatchObject({
      name: 'my-app',
      private: true,
      type: 'module',
      scripts: {
        start: 'blueprint start --topology topology/monolith.json',
        'start:split': 'blueprint dev --topology topology/split.json',
        test: 'vitest run',
      },
      dependencies: {
        '@blueprint/cache': '^0.1.0',
        '@blueprint/core': '^0.1.0',
        '@blueprint/events': '^0.1.0',
        '@blueprint/http': '^0.1.0',
        fastify: DEPENDENCY_VERSIONS.fastify,
        tsx: DEPENDENCY_VERSIONS.tsx,
        zod: DEPENDENCY_VERSIONS.zod,
      },
      devDependencies: DEV_DEPENDENCY_VERSIONS,
    });
    expect(manifest.scripts).toEqual(APP_SCRIPTS);
  });

  it('takes the Blueprint packages from the given sources', () => {
    const manifest = appManifest({
      name: 'x',
      template: findTemplate('shop'),
      version: '0.1.0',
      sources: { '@blueprint/core': 'file:/tmp/blueprint-core-0.1.0.tgz' },
    });
    expect(manifest.dependencies).toMatchObject({
      '@blueprint/core': 'file:/tmp/blueprint-core-0.1.0.tgz',
      '@blueprint/events': '^0.1.0',
    });
  });

  it('uses the versions the Blueprint repository is built and tested with', () => {
    expect(starterVersion()).toBe(coreManifest.version);
    expect(DEPENDENCY_VERSIONS.zod).toBe(coreManifest.dependencies.zod);
    expect(DEPENDENCY_VERSIONS.tsx).toBe(coreManifest.dependencies.tsx);
    expect(DEPENDENCY_VERSIONS.ioredis).toBe(rootManifest.devDependencies.ioredis);
    expect(DEPENDENCY_VERSIONS.fastify).toBe(rootManifest.devDependencies.fastify);
    expect(DEV_DEPENDENCY_VERSIONS.vitest).toBe(rootManifest.devDependencies.vitest);
    expect(DEV_DEPENDENCY_VERSIONS.typescript).toBe(rootManifest.devDependencies.typescript);
    expect(rootManifest.devDependencies['@types/node']).toMatch(/^\^20\./);
  });
});

describe('localTarballs', () => {
  it('maps each package to the file: path of its tarball', async () => {
    const dir = await folderWith([
      'blueprint-core-0.1.0.tgz',
      'blueprint-events-0.1.0.tgz',
      'other-1.0.0.tgz',
    ]);
    expect(localTarballs(dir, ['core', 'events'], '0.1.0')).toEqual({
      '@blueprint/core': `file:${path.join(dir, 'blueprint-core-0.1.0.tgz')}`,
      '@blueprint/events': `file:${path.join(dir, 'blueprint-events-0.1.0.tgz')}`,
    });
  });

  it("takes the starter's version when a folder holds several", async () => {
    const dir = await folderWith(['blueprint-core-0.1.0.tgz', 'blueprint-core-0.2.0-next.1.tgz']);
    expect(localTarballs(dir, ['core'], '0.2.0-next.1')['@blueprint/core']).toMatch(
      /core-0\.2\.0-next\.1\.tgz$/,
    );
    expect(() => localTarballs(dir, ['core'], '0.3.0')).toThrow(
      /has 2 tarballs of @blueprint\/core .* none is version 0\.3\.0/,
    );
  });

  it('names a missing tarball, a missing folder and how to pack', async () => {
    const dir = await folderWith(['blueprint-core-0.1.0.tgz']);
    expect(() => localTarballs(dir, ['core', 'cache'], '0.1.0')).toThrow(
      `BLUEPRINT_PACKAGES_DIR=${dir} has no tarball of @blueprint/cache (blueprint-cache-<version>.tgz); pack it there with \`npm pack -w packages/cache --pack-destination ${dir}\``,
    );
    expect(() => localTarballs(path.join(dir, 'nope'), ['core'], '0.1.0')).toThrow(/is not a folder/);
    try {
      localTarballs(path.join(dir, 'nope'), ['core'], '0.1.0');
    } catch (error) {
      expect(error).toMatchObject({ code: 'CREATE_APP_PACKAGES_DIR', exitCode: 1 });
    }
  });
});
