/**
 * The fixture of the adapters' shared test table: a small catalogue contract, its implementation, its
 * route table and an app that hosts it in process.
 */
import {
  type BlueprintApp,
  type CallContext,
  ConflictError,
  createApp,
  defineApp,
  defineService,
  injectable,
  NotFoundError,
  requestContext,
  service,
} from '@blueprint/core';
import { z } from 'zod';
import { defineRoutes, route } from '../routes.js';

/** An item of the fixture catalogue. */
export const EdgeItem = z.object({
  id: z.string(),
  name: z.string(),
  price: z.number().int(),
  addedAt: z.date(),
});

/** The fixture contract (service `catalogue`). */
export const EdgeCatalogue = defineService('catalogue', {
  get: { input: z.object({ id: z.string().min(1).max(20) }), output: EdgeItem, description: 'one item' },
  search: {
    input: z.strictObject({
      q: z.string().max(50).optional(),
      limit: z.number().int().min(1).max(50).default(10),
      tags: z.array(z.string()).optional(),
      inStock: z.boolean().optional(),
      since: z.date().optional(),
    }),
    output: z.object({
      q: z.string().optional(),
      limit: z.number(),
      tags: z.array(z.string()).optional(),
      inStock: z.boolean().optional(),
      since: z.date().optional(),
    }),
    description: 'echoes the parsed query',
  },
  create: {
    input: z.strictObject({ name: z.string().min(1).max(50), price: z.number().int().min(0) }),
    output: EdgeItem,
  },
  rename: { input: z.strictObject({ id: z.string().max(20), name: z.string().min(1) }), output: EdgeItem },
  remove: { input: z.object({ id: z.string().max(20) }), output: z.void() },
  fail: {
    input: z.object({ kind: z.enum(['internal', 'conflict', 'output']) }),
    output: z.object({ ok: z.boolean() }),
  },
  wait: {
    input: z.void(),
    output: z.object({ aborted: z.boolean() }),
    description: 'waits until its signal fires',
  },
  context: {
    input: z.void(),
    output: z.object({ correlationId: z.string().optional(), remainingMs: z.number().optional() }),
  },
});

/** What the fixture's implementation saw, for the tests. */
export interface EdgeProbe {
  /** Calls of `wait` whose signal fired. */
  aborted: number;
  /** Calls of `wait` started. */
  waiting: number;
}

const ADDED_AT = new Date('2025-01-02T03:04:05.000Z');

function catalogueService(probe: EdgeProbe) {
  @injectable()
  class CatalogueService {
    async get({ id }: { id: string }) {
      if (id !== 'a1') throw new NotFoundError(`item ${id} does not exist`, { details: { id } });
      return { id, name: 'anvil', price: 100, addedAt: ADDED_AT };
    }
    async search(query: Record<string, unknown>) {
      return query as { limit: number };
    }
    async create(input: { name: string; price: number }) {
      return { id: 'n1', ...input, addedAt: ADDED_AT };
    }
    async rename({ id, name }: { id: string; name: string }) {
      return { id, name, price: 100, addedAt: ADDED_AT };
    }
    async remove({ id }: { id: string }) {
      if (id !== 'a1') throw new NotFoundError(`item ${id} does not exist`);
    }
    async fail({ kind }: { kind: string }): Promise<{ ok: boolean }> {
      if (kind === 'conflict') throw new ConflictError('item a1 is locked', { details: { id: 'a1' } });
      if (kind === 'output') return { ok: 'yes' } as unknown as { ok: boolean };
      throw new Error('disk /srv/data/catalogue.db is full');
    }
    async wait(_input: unknown, context?: CallContext) {
      probe.waiting++;
      const signal = context?.signal ?? requestContext()?.signal;
      await new Promise<void>((resolve) => {
        if (signal === undefined) return resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      probe.aborted++;
      return { aborted: true };
    }
    async context() {
      const current = requestContext();
      return {
        correlationId: current?.headers?.['x-correlation-id'],
        remainingMs: current?.deadline === undefined ? undefined : current.deadline - Date.now(),
      };
    }
  }
  return CatalogueService;
}

/** The fixture's route table. */
export const edgeRoutes = defineRoutes(
  [
    route(EdgeCatalogue, 'search', 'GET /items'),
    route(EdgeCatalogue, 'get', 'GET /items/:id'),
    route(EdgeCatalogue, 'create', 'POST /items', { status: 201 }),
    route(EdgeCatalogue, 'rename', 'PUT /items/:id'),
    route(EdgeCatalogue, 'remove', 'DELETE /items/:id'),
    route(EdgeCatalogue, 'fail', 'GET /fail/:kind'),
    route(EdgeCatalogue, 'wait', 'GET /wait'),
    route(EdgeCatalogue, 'context', 'GET /context'),
  ],
  { title: 'edge conformance', version: '1.0.0' },
);

/** The adapter options every adapter of the table is given. */
export const EDGE_OPTIONS = { bodyLimit: '1kb', timeout: { default: '5s', max: '10s' } } as const;

/** Starts the fixture app in process (one process, local calls, validation on). */
export async function startEdgeApp(): Promise<{ app: BlueprintApp; probe: EdgeProbe }> {
  const probe: EdgeProbe = { aborted: 0, waiting: 0 };
  const definition = defineApp({
    name: 'edge-conformance',
    services: [service(EdgeCatalogue, catalogueService(probe))],
  });
  const app = await createApp(definition, {
    topology: {
      app: './app.js',
      processes: { main: { services: ['catalogue'] } },
      observability: { logLevel: 'silent' },
    },
  });
  await app.start();
  return { app, probe };
}
