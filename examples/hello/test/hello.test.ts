/**
 * The hello example through the `blueprint` CLI, as a user runs it: the monolith with `start`, the
 * split topology with `dev`, and a bad topology.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { killLeftoverClis, spawnCli } from '../../../packages/core/test/integration/cli/spawn-cli.js';
import { getFreePort } from '../../../test/harness/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const monolith = path.join(here, '..', 'topology.json');
const split = path.join(here, '..', 'topology.split.json');

afterEach(killLeftoverClis);

async function getJson(url: string) {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as any };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('hello example', () => {
  it('runs as a monolith with `blueprint start` and stops with exit code 0 on SIGTERM', async () => {
    const [port, adminPort] = [await getFreePort(), await getFreePort()];
    const cli = spawnCli(['start', '--topology', monolith], {
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
    });
    await cli.waitForStdout(/blueprint: ready process=main app=hello services=greeter,web rpc=local/);
    const base = `http://127.0.0.1:${port}`;

    const hello = await getJson(`${base}/hello/you`);
    expect(hello).toEqual({
      status: 200,
      body: { message: 'Hello, you!', servedBy: { process: 'main', pid: cli.child.pid } },
    });
    const invalid = await getJson(`${base}/hello/${'x'.repeat(65)}`);
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { where: 'input' } });
    expect(await getJson(`${base}/nowhere`)).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    });
    expect(await getJson(`${base}/health/live`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await getJson(`${base}/health/ready`)).toMatchObject({ status: 200, body: { ok: true } });
    // The operator endpoints are on the admin listener too, where probes and scrapers go.
    expect(await getJson(`http://127.0.0.1:${adminPort}/health/ready`)).toMatchObject({ status: 200 });

    cli.child.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(cli.stdout()).toMatch(/blueprint: stopped process=main/);
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
  });

  it('runs split with `blueprint dev`: the call crosses processes, and SIGINT stops every child', async () => {
    const [port, greeterPort, webAdmin, greeterAdmin] = [
      await getFreePort(),
      await getFreePort(),
      await getFreePort(),
      await getFreePort(),
    ];
    const dev = spawnCli(['dev', '--topology', split], {
      PORT: String(port),
      GREETER_PORT: String(greeterPort),
      WEB_ADMIN_PORT: String(webAdmin),
      GREETER_ADMIN_PORT: String(greeterAdmin),
    });
    await dev.waitForStdout(/\[dev\] +all 2 processes ready/);
    expect(dev.stdout()).toMatch(
      /^\[greeter\] blueprint: ready process=greeter .*rpc=http:\/\/127\.0\.0\.1:\d+/m,
    );
    expect(dev.stdout()).toMatch(/^\[web\] +blueprint: ready process=web/m);
    const base = `http://127.0.0.1:${port}`;

    const live = await getJson(`${base}/health/live`);
    expect(live.body).toMatchObject({ process: 'web' });
    const hello = await getJson(`${base}/hello/you`);
    expect(hello.status).toBe(200);
    expect(hello.body.servedBy.process).toBe('greeter');
    const pids = [live.body.pid as number, hello.body.servedBy.pid as number];
    expect(new Set([...pids, dev.child.pid]).size).toBe(3);
    const ready = await getJson(`${base}/health/ready`);
    expect(ready.body).toMatchObject({ ok: true, checks: { 'rpc:greeter': { ok: true } } });

    dev.child.kill('SIGINT');
    expect(await dev.exited).toEqual({ code: 0, signal: null });
    expect(dev.stdout()).toMatch(/\[greeter\] blueprint: stopped process=greeter/);
    expect(dev.stdout()).toMatch(/\[web\] +blueprint: stopped process=web/);
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('exits 1 naming the path and the fix when the topology is invalid', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'blueprint-hello-'));
    try {
      const file = path.join(dir, 'topology.json');
      const appPath = path.relative(dir, path.join(here, '..', 'src', 'app.ts'));
      await writeFile(
        file,
        JSON.stringify({ app: appPath, processes: { main: { services: ['greeter', 'web'], servces: [] } } }),
      );
      const bad = spawnCli(['start', '--topology', file]);
      expect((await bad.exited).code).toBe(1);
      expect(bad.stderr()).toContain(file);
      expect(bad.stderr()).toContain('topology.processes.main.servces: unknown key "servces"');
      expect(bad.stderr()).not.toMatch(/\n\s+at /);

      const missing = path.join(dir, 'nope.json');
      const absent = spawnCli(['start', '--topology', missing]);
      expect((await absent.exited).code).toBe(1);
      expect(absent.stderr()).toContain(`cannot read topology file ${missing}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
