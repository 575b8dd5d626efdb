/**
 * `blueprint graph` as a child process: the graph of a TypeScript app (loaded through tsx), as text and
 * Mermaid, and annotated with the calls measured by running processes.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BlueprintApp } from '@blueprint/core';
import { afterEach, describe, expect, it } from 'vitest';
import { getFreePort } from '../../../../../test/harness/index.js';
import { appStarter } from '../../../../../test/harness/started-apps.js';
import { useTempFolder } from '../fixtures/temp-folder.js';
import { app, Orders } from './fixtures/graph-app.js';
import { killLeftoverClis, spawnCli } from './spawn-cli.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const topologyFile = path.join(fixtures, 'graph-topology.json');
const temp = useTempFolder('blueprint-graph-');
const started = appStarter();
afterEach(killLeftoverClis);

/** Writes an http topology of the graph app as `name` with `processes` and the other `sections`. */
function graphTopology(name: string, sections: Record<string, unknown>): Promise<string> {
  return temp.writeJson(name, {
    app: path.join(fixtures, 'graph-app.ts'),
    rpc: { type: 'http' },
    ...sections,
  });
}

describe('blueprint graph', () => {
  it('prints the services, their processes, calls and events as text', async () => {
    const cli = spawnCli(['graph', '--topology', topologyFile]);
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(cli.stdout()).toContain('graph-shop: 4 services in 3 processes');
    expect(cli.stdout()).toContain('  orders → products   remote checkout → catalog via Pricing');
    expect(cli.stdout()).toContain('  order.placed  orders → products  remote');
    expect(cli.stderr()).toBe('');
  });

  it('needs no secret: a topology whose auth secret is unset still draws, with its replicas', async () => {
    const topology = await graphTopology('with-auth.json', {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a topology placeholder, left unset on purpose
      auth: { secret: '${GRAPH_TEST_SECRET}' },
      processes: {
        edge: { services: ['gateway'] },
        catalog: { services: ['products'], address: 'http://127.0.0.1:4101', replicas: 2 },
        checkout: { services: ['orders', 'payments'], address: 'http://127.0.0.1:4103' },
      },
    });
    const cli = spawnCli(['graph', '--topology', topology]);
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(cli.stdout()).toContain('  catalog   products          http://127.0.0.1:4101, :4102 (2 replicas)');
    expect(cli.stderr()).toBe('');
  });

  it('prints a Mermaid flowchart', async () => {
    const cli = spawnCli(['graph', '--topology', topologyFile, '--format', 'mermaid']);
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(cli.stdout()).toMatch(/^flowchart LR\n {2}subgraph process_edge\["process edge"\]\n/);
    expect(cli.stdout()).toContain('  svc_gateway --> svc_orders\n');
  });

  it('annotates calls with what the running processes measured', async () => {
    const [catalogPort, checkoutPort] = [await getFreePort(), await getFreePort()];
    const topology = await graphTopology('measured.json', {
      auth: 'none',
      admin: { port: { edge: 0, catalog: 0, checkout: 0 } },
      processes: {
        edge: { services: ['gateway'] },
        catalog: { services: ['products'], address: `http://127.0.0.1:${catalogPort}` },
        checkout: { services: ['orders', 'payments'], address: `http://127.0.0.1:${checkoutPort}` },
      },
    });
    const apps: BlueprintApp[] = [];
    for (const name of ['catalog', 'checkout', 'edge'])
      apps.push(await started(app, { topology, process: name }));
    const [catalog, checkout, edge] = apps as [BlueprintApp, BlueprintApp, BlueprintApp];
    for (let i = 0; i < 6; i++) await edge.client(Orders).place({ id: `o${i}` });

    const cli = spawnCli([
      'graph',
      '--topology',
      topology,
      '--metrics',
      `${edge.adminUrl}/metrics`,
      `${checkout.adminUrl}/metrics`,
      `${catalog.adminUrl}/metrics`,
    ]);
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    const out = cli.stdout();
    expect(out).toMatch(
      / {2}orders → products {3}remote checkout → catalog via Pricing {2}6 calls, [\d.]+\/s avg\n/,
    );
    expect(out).toMatch(/ {2}gateway → orders {4}remote edge → checkout {17}6 calls/);
    expect(out).toContain('most calls across processes (keep the busiest pairs together)');
    expect(out).toMatch(/1\. {2}\w+ → \w+ \(in \w+\) +6 calls/);
  });

  it('exits 1 naming a /metrics URL it cannot scrape', async () => {
    const port = await getFreePort();
    const cli = spawnCli([
      'graph',
      '--topology',
      topologyFile,
      '--metrics',
      `http://127.0.0.1:${port}/metrics`,
    ]);
    expect(await cli.exited).toEqual({ code: 1, signal: null });
    expect(cli.stderr()).toContain(`[REMOTE_UNAVAILABLE] cannot scrape http://127.0.0.1:${port}/metrics`);
  });
});
