// biome-ignore-all lint/suspicious/noTemplateCurlyInString: topologies use ${VAR} syntax
/**
 * `blueprint export` as a user runs it: it writes the files the renderers produce for its `--out`
 * folder whatever the shell's variables, keeps a file that was edited unless `--force`, and refuses a
 * bad target or a topology that containers cannot run with an error naming the fix, writing nothing.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareExport, renderExport } from '../../../src/cli/export-command.js';
import { EXPORT_TARGETS } from '../../../src/cli/usage.js';
import { killLeftoverClis, spawnCli } from '../cli/spawn-cli.js';
import { useTempFolder } from '../fixtures/temp-folder.js';
import { repositoryRoot } from './golden-exports.js';

const helloSplit = path.join(repositoryRoot, 'examples/hello/topology.split.json');
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../cli/fixtures');
const temp = useTempFolder('blueprint-export-');
afterEach(killLeftoverClis);

function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** An app folder of its own (package.json, the module, `@blueprint/core` installed) with a topology. */
async function appFolder(name: string, topology: Record<string, unknown>): Promise<string> {
  const root = temp.path(name);
  await mkdir(path.join(root, 'node_modules', '@blueprint'), { recursive: true });
  await symlink(path.join(repositoryRoot, 'packages/core'), path.join(root, 'node_modules/@blueprint/core'));
  await writeFile(path.join(root, 'package.json'), JSON.stringify({ name, version: '1.0.0' }));
  await writeFile(path.join(root, 'app.mjs'), await readFile(path.join(fixtures, 'pair-app.mjs'), 'utf8'));
  const file = path.join(root, 'topology.json');
  await writeFile(file, JSON.stringify({ app: 'app.mjs', ...topology }));
  return file;
}

describe('blueprint export', () => {
  it.each(EXPORT_TARGETS)(
    '%s writes what the renderer gives, whatever the shell sets',
    {
      timeout: 60_000,
    },
    async (target) => {
      const out = temp.path(`hello-${target}`);
      const cli = spawnCli(['export', target, '--topology', helloSplit, '--out', out], {
        GREETER_PORT: '5999',
        SERVICE_SECRET: 'a-secret-from-the-shell-that-must-never-be-written',
      });
      expect(await cli.exited, cli.stderr()).toEqual({ code: 0, signal: null });
      const expected = renderExport(target, await prepareExport(helloSplit, { typescriptRegistered: true }), {
        out,
      });
      expect(filesUnder(out)).toEqual(Object.keys(expected).sort());
      for (const [name, content] of Object.entries(expected)) {
        const written = await readFile(path.join(out, name), 'utf8');
        expect(written, name).toBe(content);
        expect(written).not.toContain('5999');
        expect(written).not.toContain('a-secret-from-the-shell');
        expect(cli.stdout()).toContain(`wrote ${path.relative(repositoryRoot, path.join(out, name))}`);
      }
    },
  );

  it('keeps a file that was edited, and replaces it with --force', { timeout: 60_000 }, async () => {
    const out = temp.path('edited');
    const args = ['export', 'compose', '--topology', helloSplit, '--out', out];
    expect((await spawnCli(args).exited).code).toBe(0);
    const file = path.join(out, 'compose.yaml');
    const exported = await readFile(file, 'utf8');
    // Exporting again over unchanged files is fine.
    expect((await spawnCli(args).exited).code).toBe(0);

    await writeFile(file, `${exported}# my change\n`);
    const refused = spawnCli(args);
    expect((await refused.exited).code).toBe(1);
    expect(refused.stderr()).toContain('differ from the export (edited?); nothing was written');
    expect(refused.stderr()).toContain(file);
    expect(refused.stderr()).toContain('--force');
    expect(await readFile(file, 'utf8')).toBe(`${exported}# my change\n`);

    expect((await spawnCli([...args, '--force']).exited).code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(exported);
  });

  it('notes a process without probes and suggests an admin port no process uses', async () => {
    const file = await appFolder('no-probes', {
      rpc: { type: 'http' },
      auth: 'none',
      admin: { port: { left: 9464 } },
      processes: { left: { services: ['left'] }, right: { services: ['right'] } },
    });
    const cli = spawnCli(['export', 'compose', '--topology', file, '--out', temp.path('no-probes-out')]);
    expect((await cli.exited).code).toBe(0);
    expect(cli.stdout()).toContain(
      'note: process "right" has neither an admin port nor an RPC address, so it has no probes; give it one with "admin": { "port": { "right": 9465 } }',
    );
    expect(cli.stdout()).not.toContain('process "left"');
  });

  it('names the targets for an unknown one', async () => {
    const out = temp.path('helm');
    const cli = spawnCli(['export', 'helm', '--topology', helloSplit, '--out', out]);
    expect((await cli.exited).code).toBe(2);
    expect(cli.stderr()).toContain('unknown export target "helm"; use dockerfile, compose, kubernetes');
    expect(existsSync(out)).toBe(false);
  });

  it('names the path and the fix of a missing topology file', async () => {
    const out = temp.path('missing');
    const cli = spawnCli(['export', 'compose', '--topology', temp.path('nope.json'), '--out', out]);
    expect((await cli.exited).code).toBe(1);
    expect(cli.stderr()).toContain(`[TOPOLOGY_INVALID] cannot read topology file ${temp.path('nope.json')}`);
    expect(cli.stderr()).toContain('check the path');
    expect(existsSync(out)).toBe(false);
  });

  it('lists what keeps a topology out of containers, each with its fix, and writes nothing', {
    timeout: 30_000,
  }, async () => {
    const file = await appFolder('undeployable', {
      rpc: { type: 'http' },
      auth: 'none',
      admin: { port: 0 },
      processes: {
        left: { services: ['left'], address: 'http://127.0.0.1:0' },
        right: { services: ['right'] },
      },
    });
    const out = temp.path('undeployable-out');
    const cli = spawnCli(['export', 'kubernetes', '--topology', file, '--out', out]);
    expect((await cli.exited).code).toBe(1);
    expect(cli.stderr()).toContain(`[TOPOLOGY_INVALID] topology ${file} cannot be deployed:`);
    expect(cli.stderr()).toContain(
      '- topology.processes.left.address: port 0 picks a free port; a container needs a fixed one',
    );
    expect(cli.stderr()).toContain('- topology.admin.port: port 0 of "right" cannot be probed; give it one');
    expect(cli.stderr()).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });

  it('asks for a default where a variable would shape the files, since the shell is not read', async () => {
    const file = await appFolder('no-default', {
      rpc: { type: 'http' },
      auth: { secret: '${SERVICE_SECRET}' },
      processes: {
        left: { services: ['left'], address: 'http://127.0.0.1:${LEFT_PORT}' },
        right: { services: ['right'] },
      },
    });
    const out = temp.path('no-default-out');
    const cli = spawnCli(['export', 'compose', '--topology', file, '--out', out], { LEFT_PORT: '4001' });
    expect((await cli.exited).code).toBe(1);
    expect(cli.stderr()).toContain(
      '- topology.processes.left.address: reads ${LEFT_PORT} without a default; export reads the topology with its defaults, never the shell\'s variables, so give it one: "${LEFT_PORT:-value}"',
    );
    expect(existsSync(out)).toBe(false);
  });

  it('asks for the topology to move into the app folder, which the image holds', async () => {
    const file = await temp.writeJson('outside.json', {
      app: path.join(repositoryRoot, 'examples/hello/src/app.ts'),
      rpc: { type: 'local' },
      processes: { main: { services: ['greeter', 'web'] } },
    });
    const out = temp.path('outside-out');
    const cli = spawnCli(['export', 'dockerfile', '--topology', file, '--out', out]);
    expect((await cli.exited).code).toBe(1);
    expect(cli.stderr()).toContain(
      `is outside the app's folder ${path.join(repositoryRoot, 'examples/hello')}; move it there (e.g. topology/)`,
    );
    expect(existsSync(out)).toBe(false);
  });
});
