/**
 * The READMEs' code cannot drift: every ts/js/json block is a snippet equal to its file under
 * `docs/snippets/` (type-checked with the repository, run here, topologies validated by core's schema) or
 * is marked as output, a signature or a fragment (see `test/docs/README.md`).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { cachePlugin } from '@blueprint/cache';
import { describeCacheStoreConformance } from '@blueprint/cache/testing';
import { createApp, defineApp, parseTopology } from '@blueprint/core';
import { topologyOptionsOf } from '@blueprint/core/plugin';
import { waitFor } from '@blueprint/core/testing';
import { eventsPlugin } from '@blueprint/events';
import { resiliencePlugin } from '@blueprint/resilience';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mapStore } from '../../docs/snippets/cache/custom-store.js';
import {
  CHECKED_LANGUAGES,
  languageOf,
  parseBlocks,
  type ReadmeBlock,
  ROOT,
  readmePaths,
  SNIPPETS_DIR,
  snippetFiles,
  snippetText,
} from './snippets.js';

/**
 * Snippets that are type-checked but not run, and why. Everything else under `docs/snippets/` that ends
 * in `.ts` is imported (run) by this test.
 */
const NOT_RUN: Readonly<Record<string, string>> = {
  'core/conformance.ts':
    'registers a vitest suite when imported; core runs describeRpcConformance for every driver',
  'core/create-app.ts': "builds a process from the reader's topology/split.json",
  'resilience/policy-interface.ts': 'a type-level check only: the README interfaces equal the exported types',
  'events/conformance.ts':
    'registers a vitest suite when imported; the events package runs it for every transport',
  'events/kafka.ts':
    'needs a Kafka broker; the kafka transport tests run these calls against the harness broker',
  'cache/store-interface.ts': 'a type-level check only: the README interface equals the exported type',
  'cache/conformance.ts': 'registers a vitest suite when imported; the cache package runs it for every store',
};

/**
 * Values for the variables that topology snippets use without a default (a secret is never written in a
 * file), so validation sees what a deployment would set.
 */
const DOCS_ENV: Readonly<Record<string, string>> = {
  SERVICE_SECRET: 'a-secret-of-at-least-thirty-two-characters',
  REDIS_URL: 'redis://10.0.0.4:6379',
};

/** What a run snippet must print (console.log), in order; a snippet not listed may print anything. */
const PRINTS: Readonly<Record<string, readonly unknown[][]>> = {
  'core/example.ts': [[{ text: 'hello ann', at: expect.any(Date) }]],
  'events/example.ts': [['charging 42 for o1 (event order.placed)']],
};

const blocks: ReadmeBlock[] = readmePaths().flatMap((readme) =>
  parseBlocks(readme, readFileSync(path.join(ROOT, readme), 'utf8')),
);

const where = (block: ReadmeBlock): string => `${block.readme}:${block.line}`;

/** Topology sections of every plugin, so a topology block may use any of them. */
const topologyOptions = topologyOptionsOf(
  defineApp({ name: 'docs', services: [], plugins: [cachePlugin(), eventsPlugin(), resiliencePlugin()] }),
);

/** Validates a topology (or a section merged into a one-process topology) with core's schema. */
function validateTopology(value: unknown, source: string): void {
  const topology =
    typeof value === 'object' && value !== null && 'processes' in value
      ? value
      : { app: 'src/app.ts', processes: { main: { services: [] } }, ...(value as object) };
  parseTopology(topology, { ...topologyOptions, source, env: DOCS_ENV });
}

describe('README code blocks', () => {
  it('every ts/js/json block is a snippet or is marked as output, a signature or a fragment', () => {
    const unmarked = blocks
      .filter((block) => CHECKED_LANGUAGES.has(block.lang) && block.mark.kind === 'none')
      .map(where);
    expect(unmarked, 'wrap these in <!-- snippet: … --> markers (npm run docs:snippets)').toEqual([]);
  });

  it('markers are well formed', () => {
    const broken = blocks.flatMap((block) =>
      block.markerError === undefined ? [] : [`${where(block)}: ${block.markerError}`],
    );
    expect(broken).toEqual([]);
  });

  it('each snippet block is byte-equal to its file, in its language (npm run docs:snippets rewrites them)', () => {
    const drifted = blocks.flatMap((block) => {
      if (block.mark.kind !== 'snippet') return [];
      const expected = snippetText(block.mark.file, block.mark.region);
      const problems: string[] = [];
      if (block.text !== expected) problems.push(`${where(block)} differs from ${block.mark.file}`);
      if (block.lang !== languageOf(block.mark.file))
        problems.push(`${where(block)} is not a ${languageOf(block.mark.file)} block`);
      return problems;
    });
    expect(drifted).toEqual([]);
  });

  it('every snippet file is shown by a README or imported by a snippet that is', () => {
    const shown = new Set(
      blocks.flatMap((block) => (block.mark.kind === 'snippet' ? [block.mark.file] : [])),
    );
    const imported = new Set(
      [...shown].flatMap((file) =>
        [...readFileSync(path.join(SNIPPETS_DIR, file), 'utf8').matchAll(/from '(\.\.?\/[^']+)\.js'/g)].map(
          (match) => path.posix.join(path.posix.dirname(file), `${match[1]}.ts`),
        ),
      ),
    );
    expect(snippetFiles().filter((file) => !shown.has(file) && !imported.has(file))).toEqual([]);
  });

  it('every snippet that is not run exists', () => {
    expect(Object.keys(NOT_RUN).filter((file) => !snippetFiles().includes(file))).toEqual([]);
  });

  it('output blocks in JSON are JSON lines', () => {
    for (const block of blocks.filter((b) => b.mark.kind === 'output' && b.lang === 'json')) {
      for (const line of block.text.split('\n').filter((l) => l.trim() !== '')) {
        expect(() => JSON.parse(line), `${where(block)}: ${line}`).not.toThrow();
      }
    }
  });
});

describe('JSON snippets are valid topologies (or topology sections)', () => {
  for (const file of snippetFiles().filter((f) => f.endsWith('.json'))) {
    it(file, () => {
      const text = readFileSync(path.join(SNIPPETS_DIR, file), 'utf8');
      expect(() => validateTopology(JSON.parse(text), file)).not.toThrow();
    });
  }
});

describe('TypeScript snippets run', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  for (const file of snippetFiles().filter((f) => f.endsWith('.ts'))) {
    const reason = NOT_RUN[file];
    if (reason !== undefined) continue;
    it(file, async () => {
      const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
      await import(pathToFileURL(path.join(SNIPPETS_DIR, file)).href);
      const expected = PRINTS[file];
      if (expected !== undefined) expect(log.mock.calls).toEqual(expected);
    });
  }
});

// The cache README's example of writing a store is a whole store: it passes the suite every store passes.
describeCacheStoreConformance('the cache README example store (docs/snippets/cache/custom-store.ts)', {
  create: () => mapStore(),
});

/** The root README's "Your first app" section. */
function firstPage(): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Your first app\n');
  const end = readme.indexOf('\n## ', start + 1);
  if (start < 0 || end < 0) throw new Error('the root README has no "## Your first app" section');
  return readme.slice(start, end);
}

describe("the root README's first page matches what the starter writes", () => {
  let app = '';
  beforeAll(async () => {
    // Inside the repository, so the generated app's imports resolve to the workspace sources.
    const cwd = await mkdtemp(path.join(ROOT, 'test/docs/.first-app-'));
    const bin = path.join(ROOT, 'packages/create-app/bin/create-app.js');
    await promisify(execFile)(process.execPath, [bin, 'my-app', '--no-install'], { cwd, env: process.env });
    app = path.join(cwd, 'my-app');
  });
  afterAll(async () => {
    if (app !== '') await rm(path.dirname(app), { recursive: true, force: true });
  });

  it('every file the table names is written', () => {
    const rows = firstPage()
      .split('\n')
      .filter((line) => line.startsWith('| `'));
    const files = rows.flatMap((row) =>
      [...(row.split('|')[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? ''),
    );
    expect(files.length).toBeGreaterThan(8);
    expect(files.filter((file) => !existsSync(path.join(app, file)))).toEqual([]);
  });

  it('the scripts it names exist', () => {
    const scripts = Object.keys(JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')).scripts);
    const named = [...firstPage().matchAll(/npm (?:run )?(start:split|start|test)\b/g)].map((m) => m[1]);
    expect(new Set(named)).toEqual(new Set(['start', 'test', 'start:split']));
    expect(named.filter((script) => !scripts.includes(script ?? ''))).toEqual([]);
  });

  it('the requests it shows get the answers it describes from the monolith', async () => {
    const called = [
      ...firstPage().matchAll(/curl (?:-X (\w+) )?localhost:3000(\/\S*)(?: .*-d '([^']+)')?/g),
    ].map(([, method = 'GET', route = '', body]) => ({ method, route, body }));
    expect(called.map(({ method, route }) => `${method} ${route}`)).toEqual([
      'POST /users',
      'GET /users/<id>',
      'GET /users/<id>/emails',
    ]);
    const { app: definition } = await import(pathToFileURL(path.join(app, 'src/app.ts')).href);
    const topology = JSON.parse(readFileSync(path.join(app, 'topology/monolith.json'), 'utf8'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const running = await createApp(definition, { topology, env: { PORT: '0' } });
    await running.start();
    try {
      const port = /listening on http:\/\/localhost:(\d+)/.exec(log.mock.calls.flat().join('\n'))?.[1];
      const send = (method: string, route: string, body?: string) =>
        fetch(`http://127.0.0.1:${port}${route}`, {
          method,
          ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
        });
      const [register, read, emails] = called;
      const registered = await send(register!.method, register!.route, register!.body);
      expect(registered.status).toBe(201);
      const { id } = (await registered.json()) as { id: string };
      const user = await send(read!.method, read!.route.replace('<id>', id));
      expect(await user.json()).toMatchObject({ id, name: 'Ada', email: 'ada@example.com' });
      await waitFor(async () => {
        const sent = (await (
          await send(emails!.method, emails!.route.replace('<id>', id))
        ).json()) as unknown[];
        return sent.length === 1;
      });
    } finally {
      await running.stop();
    }
  });

  it('its two topologies are valid', () => {
    for (const file of ['topology/monolith.json', 'topology/split.json']) {
      const raw = JSON.parse(readFileSync(path.join(app, file), 'utf8'));
      expect(() => parseTopology(raw, { ...topologyOptions, source: file, env: DOCS_ENV })).not.toThrow();
    }
  });
});
