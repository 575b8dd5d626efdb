import { defineError, defineService } from '@blueprint/core';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openApiDocument } from './openapi.js';
import { defineRoutes, route } from './routes.js';
import { edgeRoutes } from './testing/fixture.js';

/** Validates against the OpenAPI 3.1 schema (a `$ref` that resolves nowhere is invalid too), then resolves the refs. */
async function validate(document: unknown): Promise<{ valid: boolean; errors: unknown }> {
  const validator = new Validator();
  const result = await validator.validate(JSON.parse(JSON.stringify(document)));
  if (result.valid) validator.resolveRefs();
  return { valid: result.valid, errors: result.errors };
}

const OutOfStockError = defineError('OUT_OF_STOCK', 409);

const Money = z.object({ amount: z.bigint(), currency: z.enum(['EUR', 'USD']) }).meta({ id: 'Money' });
interface Category {
  name: string;
  children: Category[];
}
const CategorySchema: z.ZodType<Category> = z.lazy(() =>
  z.object({ name: z.string(), children: z.array(CategorySchema) }),
);

const Store = defineService(
  'store',
  {
    list: {
      input: z.object({
        page: z.number().int().min(1).default(1),
        tags: z.array(z.string()).optional(),
        sort: z.enum(['price', 'name']).optional(),
      }),
      output: z.array(z.object({ id: z.string(), price: Money, addedAt: z.date() })),
      description: 'Lists the products.',
    },
    price: {
      input: z.object({ id: z.string(), price: Money, note: z.string().nullable().optional() }),
      output: z.object({ id: z.string(), price: Money }),
    },
    tree: { input: z.void(), output: CategorySchema },
    purge: { input: z.object({ id: z.string() }), output: z.void() },
    bulk: {
      input: z.union([z.object({ ids: z.array(z.string()) }), z.object({ all: z.literal(true) })]),
      output: z.record(z.string(), z.number()),
    },
  },
  { errors: [OutOfStockError] },
);

const storeRoutes = defineRoutes(
  [
    route(Store, 'list', 'GET /products', { tags: ['catalogue'] }),
    route(Store, 'price', 'PUT /products/:id/price', { summary: 'Sets a price.' }),
    route(Store, 'tree', 'GET /categories'),
    route(Store, 'purge', 'DELETE /products/:id', { deprecated: true, operationId: 'purgeProduct' }),
    route(Store, 'bulk', 'POST /products/bulk', { status: 202 }),
  ],
  { title: 'store', version: '2.1.0', description: 'The store API.' },
);

describe('openApiDocument', () => {
  it('is a valid OpenAPI 3.1 document for the adapters’ fixture routes', async () => {
    const document = openApiDocument(edgeRoutes);
    expect(document.openapi).toBe('3.1.0');
    await expect(validate(document)).resolves.toEqual({ valid: true, errors: undefined });
  });

  it('is a valid OpenAPI 3.1 document for shared, recursive, union and bigint schemas', async () => {
    const document = openApiDocument(storeRoutes, { servers: [{ url: 'https://api.example.com' }] });
    await expect(validate(document)).resolves.toEqual({ valid: true, errors: undefined });
    expect(document.info).toEqual({ title: 'store', version: '2.1.0', description: 'The store API.' });
    expect(document.servers).toEqual([{ url: 'https://api.example.com' }]);
    expect(Object.keys(document.paths).sort()).toEqual([
      '/categories',
      '/products',
      '/products/bulk',
      '/products/{id}',
      '/products/{id}/price',
    ]);
  });

  it('the validator used here refuses a broken document (so the checks above can fail)', async () => {
    const document = openApiDocument(storeRoutes) as unknown as { paths: Record<string, any> };
    document.paths['/products']!.get.responses = 'none';
    expect((await validate(document)).valid).toBe(false);
    const dangling = openApiDocument(storeRoutes) as unknown as { paths: Record<string, any> };
    dangling.paths['/products']!.get.responses['200'].content['application/json'].schema = {
      $ref: '#/components/schemas/Nowhere',
    };
    expect((await validate(dangling)).valid).toBe(false);
  });

  it('maps the query fields to parameters, repeated keys as form-exploded arrays', () => {
    const operation = openApiDocument(storeRoutes).paths['/products']!.get as any;
    expect(operation.operationId).toBe('store.list');
    expect(operation.summary).toBe('Lists the products.');
    expect(operation.tags).toEqual(['catalogue']);
    expect(operation.parameters).toEqual([
      { name: 'page', in: 'query', required: false, schema: expect.objectContaining({ type: 'integer' }) },
      {
        name: 'tags',
        in: 'query',
        required: false,
        schema: { type: 'array', items: { type: 'string' } },
        style: 'form',
        explode: true,
      },
      { name: 'sort', in: 'query', required: false, schema: { type: 'string', enum: ['price', 'name'] } },
    ]);
    const item = operation.responses['200'].content['application/json'].schema.items;
    expect(item.properties.addedAt).toEqual({ type: 'string', format: 'date-time' });
  });

  it('takes path parameters out of the request body, and shares a schema with an id as a component', () => {
    const document = openApiDocument(storeRoutes);
    const operation = document.paths['/products/{id}/price']!.put as any;
    expect(operation.parameters).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
    ]);
    const body = operation.requestBody.content['application/json'].schema;
    expect(Object.keys(body.properties).sort()).toEqual(['note', 'price']);
    expect(body.required).toEqual(['price']);
    expect(body.properties.price).toEqual({ $ref: '#/components/schemas/Money' });
    expect(document.components.schemas.Money).toMatchObject({
      properties: { amount: { type: 'string', format: 'int64' } },
    });
  });

  it('answers a void output with 204 and no content, and lists the errors a route can answer', () => {
    const document = openApiDocument(storeRoutes);
    const purge = document.paths['/products/{id}']!.delete as any;
    expect(purge.operationId).toBe('purgeProduct');
    expect(purge.deprecated).toBe(true);
    expect(purge.responses['204']).toEqual({ description: 'Done.' });
    expect(Object.keys(purge.responses).sort()).toEqual(['204', '400', '404', '409', '500', '503', '504']);
    expect(purge.responses['409'].description).toContain('OUT_OF_STOCK');
    const bulk = document.paths['/products/bulk']!.post as any;
    expect(Object.keys(bulk.responses)).toContain('202');
    expect(bulk.responses['415'].description).toContain('UNSUPPORTED_MEDIA_TYPE');
    expect(bulk.responses['413'].description).toContain('PAYLOAD_TOO_LARGE');
  });
});
