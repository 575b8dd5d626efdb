/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core. It runs the shop split
 * with `blueprint dev`, places orders and checks the architecture graph and a trace across processes;
 * then a one-service fixture app (`fixtures/poison`, whose handler fails while a file exists) makes a
 * dead letter, and clicking Replay once the handler is fixed gets it handled. Screenshots of each page go
 * to `test-results/dashboard/`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFreePort, getFreePortRange, type ServerHandle, startRedis, waitFor } from '../harness/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(root, 'packages/core/bin/blueprint.js');
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(root, 'test-results/dashboard');

/** A `blueprint dev` run. */
interface DevRun {
  /** The dashboard's URL from the ready line. */
  readonly dashboard: string;
  /** What it printed. */
  output(): string;
  /** SIGTERM, and waits for it to exit. */
  stop(): Promise<void>;
}

async function startDev(topology: string, env: Record<string, string>): Promise<DevRun> {
  let output = '';
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, 'dev', '--topology', topology, '--dashboard-port', '0'],
    {
      cwd: root,
      env: { ...(process.env as Record<string, string>), ...env, NO_COLOR: '1', BLUEPRINT_CLI_SOURCE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = /processes ready; dashboard (http:\/\/127\.0\.0\.1:\d+\/)/;
  await waitFor(() => ready.test(output) || child.exitCode !== null, {
    timeout: 50_000,
    interval: 50,
    message: `blueprint dev of ${topology} to be ready; output:\n${output}`,
  });
  const match = ready.exec(output);
  if (match === null) throw new Error(`blueprint dev of ${topology} exited:\n${output}`);
  return {
    dashboard: match[1]!,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function shopEnv(redisUrl: string, dataDir: string): Promise<Record<string, string>> {
  return {
    REDIS_URL: redisUrl,
    DATA_DIR: dataDir,
    PORT: String(await getFreePort()),
    PRODUCTS_PORT: String(await getFreePortRange(2)),
    ORDERS_PORT: String(await getFreePort()),
    PAYMENTS_PORT: String(await getFreePort()),
    GATEWAY_ADMIN_PORT: String(await getFreePort()),
    PRODUCTS_ADMIN_PORT: String(await getFreePortRange(2)),
    ORDERS_ADMIN_PORT: String(await getFreePort()),
    PAYMENTS_ADMIN_PORT: String(await getFreePort()),
    SERVICE_SECRET: randomBytes(32).toString('base64url'),
  };
}

let redis: ServerHandle;
let scratch: string;
let shop: DevRun;
let poison: DevRun;
let browser: BrowserContext;
let page: Page;
let shopUrl: string;
let poisonUrl: string;
let faultFile: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the dashboard's browser test needs ${CHROMIUM}: apt-get install chromium`);
  }
  redis = await startRedis();
  scratch = await mkdtemp(path.join(tmpdir(), 'blueprint-dashboard-'));
  await mkdir(path.join(scratch, 'shop'));
  await mkdir(SHOTS, { recursive: true });
  faultFile = path.join(scratch, 'worker-is-broken');
  const env = await shopEnv(redis.url, path.join(scratch, 'shop'));
  shopUrl = `http://127.0.0.1:${env.PORT}`;
  const poisonEnv = {
    REDIS_URL: redis.url,
    PORT: String(await getFreePort()),
    ADMIN_PORT: String(await getFreePort()),
    FAULT_FILE: faultFile,
  };
  poisonUrl = `http://127.0.0.1:${poisonEnv.PORT}`;
  [shop, poison, browser] = await Promise.all([
    startDev(path.join(root, 'examples/shop/topology/split.json'), env),
    startDev(path.join(root, 'test/browser/fixtures/poison/topology.json'), poisonEnv),
    chromium.launchPersistentContext(await mkdtemp(path.join(scratch, 'chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 860 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    }),
  ]);
  page = await browser.newPage();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([shop?.stop(), poison?.stop()]);
  await redis?.stop();
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
}, 60_000);

async function open(base: string, tab: string): Promise<void> {
  await page.goto(`${base}#${tab}`);
  await page.waitForSelector(`body[data-loaded="${tab}"]`, { timeout: 15_000 });
}

async function post(url: string, body?: unknown, headers: Record<string, string> = {}): Promise<any> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(response.ok, await response.clone().text()).toBe(true);
  return response.json();
}

describe('the dashboard of blueprint dev', () => {
  it('shows the shop: four processes, their calls with rates, and one order traced across processes', async () => {
    for (let i = 0; i < 3; i++) {
      await post(
        `${shopUrl}/orders`,
        { productId: 'p-cable', quantity: 1 },
        { 'x-correlation-id': `dash-order-${i}` },
      );
    }
    for (let i = 0; i < 2; i++) expect((await fetch(`${shopUrl}/products/p-mouse`)).status).toBe(200);

    await open(shop.dashboard, 'architecture');
    const processes = await page.$$eval('[data-process]', (nodes) =>
      nodes.map((node) => [node.getAttribute('data-process'), node.getAttribute('data-ready')]),
    );
    expect(processes.sort()).toEqual([
      ['gateway', 'true'],
      ['orders', 'true'],
      ['payments', 'true'],
      ['products', 'true'],
    ]);
    const rates = Object.fromEntries(
      await page.$$eval('[data-edge]', (edges) =>
        edges.map((edge) => [edge.getAttribute('data-edge'), Number(edge.getAttribute('data-rate'))]),
      ),
    );
    expect(Object.keys(rates).sort()).toEqual(['gateway->orders', 'gateway->products', 'orders->products']);
    for (const rate of Object.values(rates)) expect(rate).toBeGreaterThan(0);
    expect(await page.locator('[data-event-edge]').count()).toBe(2);
    await page.screenshot({ path: path.join(SHOTS, 'architecture.png'), fullPage: true });

    await open(shop.dashboard, 'traces');
    await page.fill('#f-cid', 'dash-order-1');
    await page.click('#f-apply');
    // The payments handler runs after the order is answered: wait until its spans are in the trace.
    await waitFor(
      async () => {
        await page.click('#f-apply');
        const row = page.locator('[data-trace-row]');
        return (await row.count()) === 1 && Number(await row.getAttribute('data-processes')) >= 4;
      },
      { timeout: 15_000, interval: 250, message: 'the order trace to show its four processes' },
    );
    await page.click('[data-trace-row]');
    await page.waitForSelector('[data-span]');
    const spanProcesses = await page.$$eval('[data-span]', (spans) => [
      ...new Set(spans.map((span) => span.getAttribute('data-process'))),
    ]);
    expect(spanProcesses.length).toBeGreaterThanOrEqual(3);
    expect(spanProcesses).toEqual(expect.arrayContaining(['gateway', 'orders', 'products']));
    expect(await page.textContent('#trace-title')).toContain('processes');
    await page.screenshot({ path: path.join(SHOTS, 'traces.png'), fullPage: true });

    await open(shop.dashboard, 'cache');
    await page.waitForSelector('[data-cache-method="products.get"]');
    await page.screenshot({ path: path.join(SHOTS, 'cache.png'), fullPage: true });
  });

  it('lists a poison event in the dead letters, and Replay gets it handled once the handler is fixed', async () => {
    await writeFile(faultFile, 'broken');
    await post(`${poisonUrl}/jobs?job=poison-1`);
    await open(poison.dashboard, 'events');
    const letter = page.locator('[data-dead-letter]');
    await letter.waitFor({ timeout: 20_000 });
    expect(await letter.count()).toBe(1);
    const text = await letter.textContent();
    expect(text).toContain('max-attempts');
    expect(text).toContain('poison-1');
    expect(text).toContain('the worker is broken');
    expect(await page.textContent('[data-published="worker:job.submitted"]')).toContain('1');
    await page.screenshot({ path: path.join(SHOTS, 'events.png'), fullPage: true });

    await rm(faultFile);
    await letter.locator('button[data-action="replay"]').click();
    await page.waitForSelector('[data-flash="replay"]');
    await waitFor(
      async () => ((await (await fetch(`${poisonUrl}/jobs`)).json()) as { jobs: string[] }).jobs.length > 0,
      { timeout: 15_000, interval: 100, message: 'the replayed job to be handled' },
    );
    expect(((await (await fetch(`${poisonUrl}/jobs`)).json()) as { jobs: string[] }).jobs).toEqual([
      'poison-1',
    ]);
    await page.waitForSelector('[data-empty="dead-letters"]', { timeout: 10_000 });
    await page.waitForSelector('[data-subscription="jobs:job.submitted"] [data-handled="1"]', {
      timeout: 10_000,
    });
  });
});
