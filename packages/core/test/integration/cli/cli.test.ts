/**
 * The `blueprint` CLI as a child process: graceful and forced stops, start failures, and `dev`
 * starting one child per replica of the deployment plan and stopping everything when one dies at start.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { getFreePortRange, waitFor } from '../../../../../test/harness/index.js';
import { httpSplit } from '../../../../../test/harness/topologies.js';
import { useTempFolder } from '../fixtures/temp-folder.js';
import { killLeftoverClis, spawnCli } from './spawn-cli.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const temp = useTempFolder('blueprint-cli-');
afterEach(killLeftoverClis);

/** Writes a topology of the fixture app `module` with `sections` as `<name>.json`; returns its path. */
const topology = (name: string, module: string, sections: Record<string, unknown>) =>
  temp.writeJson(`${name}.json`, { ...sections, app: path.join(fixtures, module) });

/** crash-app's two services, each in its own process. */
const steadyAndBroken = httpSplit({ steady: { services: ['steady'] }, broken: { services: ['broken'] } });

describe('blueprint start', () => {
  it('exits 1 when stop hangs past shutdownTimeout plus the margin', async () => {
    const file = await topology('stuck', 'stuck-app.mjs', {
      shutdownTimeout: '100ms',
      processes: { main: { services: ['stuck'] } },
    });
    const cli = spawnCli(['start', '--topology', file]);
    await cli.waitForStdout(/blueprint: ready process=main app=stuck/);
    const signalled = Date.now();
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 1, signal: null });
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(3_000);
    expect(cli.stderr()).toContain('did not stop within 3100ms');
  });

  it('exits 1 at once on a second signal', async () => {
    const file = await topology('stuck-twice', 'stuck-app.mjs', {
      shutdownTimeout: '30s',
      processes: { main: { services: ['stuck'] } },
    });
    const cli = spawnCli(['start', '--topology', file]);
    await cli.waitForStdout(/blueprint: ready/);
    cli.child.kill('SIGINT');
    await cli.waitForStdout(/blueprint: stopping process=main reason=SIGINT/);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 1, signal: null });
    expect(cli.stderr()).toContain('SIGTERM again; exiting now');
  });

  it('finishes starting, then stops with 0, when signalled during start', async () => {
    const file = await topology('slow', 'slow-start-app.mjs', {
      processes: { only: { services: ['slow'] } },
    });
    const cli = spawnCli(['start', '--topology', file]);
    await cli.waitForStdout(/slow: starting/);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(cli.stdout()).toMatch(
      /stopping process=only reason=SIGTERM[\s\S]*ready process=only[\s\S]*stopped/,
    );
  });

  it('prints a coded start error without a stack trace (unless --verbose) and exits 1', async () => {
    const file = await topology('crash-one', 'crash-app.mjs', {
      processes: { main: { services: ['steady', 'broken'] } },
    });
    const cli = spawnCli(['start', '--topology', file]);
    expect((await cli.exited).code).toBe(1);
    expect(cli.stderr()).toBe(
      'blueprint: process "main" failed to start: [CONFLICT] broken refuses to start: port 1 is taken\n',
    );
    const verbose = spawnCli(['start', '--topology', file, '--verbose']);
    expect((await verbose.exited).code).toBe(1);
    expect(verbose.stderr()).toMatch(/\[CONFLICT\] broken refuses[\s\S]*\n\s+at /);
  });

  it('names the module and the fix when the module exports no app', async () => {
    const file = await topology('not-an-app', 'not-an-app.mjs', {
      processes: { main: { services: [] } },
    });
    const cli = spawnCli(['start', '--topology', file]);
    expect((await cli.exited).code).toBe(1);
    expect(cli.stderr()).toContain('[APP_INVALID]');
    expect(cli.stderr()).toContain(
      `${path.join(fixtures, 'not-an-app.mjs')} (topology.app of ${file}) exports no app`,
    );
    expect(cli.stderr()).toContain('its exports are: notAnApp');
  });

  it('asks for --process when the topology has several processes', async () => {
    const file = await topology('two', 'crash-app.mjs', steadyAndBroken);
    const cli = spawnCli(['start', '--topology', file]);
    expect((await cli.exited).code).toBe(1);
    expect(cli.stderr()).toContain('choose one with --process <name>');
  });
});

describe('blueprint dev', () => {
  it('stops the others and exits 1 when a process dies at start', async () => {
    const file = await topology('dev-crash', 'crash-app.mjs', steadyAndBroken);
    const dev = spawnCli(['dev', '--topology', file]);
    expect(await dev.exited).toEqual({ code: 1, signal: null });
    expect(dev.stderr()).toMatch(/^\[broken\] blueprint: process "broken" failed to start: \[CONFLICT\]/m);
    expect(dev.stderr()).toMatch(/^\[dev\] +broken exited with code 1 while starting; stopping the others$/m);
    expect(dev.stdout()).toMatch(/^\[dev\] +stopped with failures$/m);
  });

  it('starts the units of the deployment plan: one per replica, each at its own port', async () => {
    const port = await getFreePortRange(2);
    const file = await topology(
      'dev-replicas',
      'graph-app.ts',
      httpSplit({
        edge: { services: ['gateway', 'orders', 'payments'] },
        catalog: { services: ['products'], address: `http://127.0.0.1:${port}`, replicas: 2 },
      }),
    );
    const dev = spawnCli(['dev', '--topology', file]);
    await dev.waitForStdout(/all 3 processes ready/);
    expect(dev.stdout()).toMatch(/^\[dev\] +starting edge, catalog\.0, catalog\.1 from /m);
    for (const replica of [0, 1]) {
      expect(dev.stdout()).toMatch(
        new RegExp(
          `^\\[catalog\\.${replica}\\] blueprint: ready process=catalog .* rpc=http://127\\.0\\.0\\.1:${port + replica} `,
          'm',
        ),
      );
      const health = await fetch(`http://127.0.0.1:${port + replica}/health/live`);
      expect(health.status).toBe(200);
    }
    dev.child.kill('SIGTERM');
    expect(await dev.exited).toEqual({ code: 0, signal: null });
  });

  it('children stop by themselves when dev is killed with SIGKILL', async () => {
    const file = await topology(
      'dev-orphans',
      'pair-app.mjs',
      httpSplit({ left: { services: ['left'] }, right: { services: ['right'] } }),
    );
    const dev = spawnCli(['dev', '--topology', file]);
    await dev.waitForStdout(/all 2 processes ready/);
    const pids = [...dev.stdout().matchAll(/blueprint: ready .* pid=(\d+)/g)].map((match) =>
      Number(match[1]),
    );
    expect(pids).toHaveLength(2);
    dev.child.kill('SIGKILL');
    await waitFor(() => pids.every((pid) => !isAlive(pid)), {
      timeout: 15_000,
      message: 'the children of a killed dev process to exit',
    });
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
